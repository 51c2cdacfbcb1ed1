"""Public awareness pages and parent leaflets: no log-in, three languages, PDFs in kk and ru."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from curriculum.models import InfoPage, PageKind
from extensions import db
from tests.curriculum.factories import pdf_text


def awareness() -> list[InfoPage]:
    return list(
        db.session.scalars(
            select(InfoPage).where(InfoPage.kind == PageKind.awareness).order_by(InfoPage.position)
        )
    )


def leaflets() -> list[InfoPage]:
    return list(db.session.scalars(select(InfoPage).where(InfoPage.kind == PageKind.leaflet)))


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_awareness_pages_are_public_in_each_language(client, content, lang):
    client.get(f"/lang/{lang}")
    index = client.get("/learn")
    assert index.status_code == 200
    html = index.get_data(as_text=True)
    for page in awareness():
        assert page.text(lang).title in html
    page = awareness()[0]
    response = client.get(f"/learn/{page.slug}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert page.text(lang).title in html
    assert "150" in html and "111" in html
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_markdown_of_a_page_is_rendered_and_sanitized(client, content):
    page = awareness()[0]
    html = client.get(f"/learn/{page.slug}").get_data(as_text=True)
    assert "<h3>" in html or "<li>" in html
    assert "<script" not in html


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_parent_leaflets_render_as_pdf(client, content, lang):
    assert len(leaflets()) >= 1
    for leaflet in leaflets():
        response = client.get(f"/leaflets/{leaflet.slug}.pdf?lang={lang}")
        assert response.status_code == 200
        assert response.mimetype == "application/pdf"
        text = " ".join(pdf_text(response.data).split())
        assert " ".join(leaflet.text(lang).title.split())[:40] in text
        assert "150" in text and "111" in text
    if lang == "kk":
        assert set("әғқңөұүі") <= set(text)


def test_leaflets_are_linked_in_kazakh_and_russian(client, content):
    html = client.get("/learn").get_data(as_text=True)
    for leaflet in leaflets():
        assert f"/leaflets/{leaflet.slug}.pdf?lang=kk" in html
        assert f"/leaflets/{leaflet.slug}.pdf?lang=ru" in html


def test_home_page_links_to_the_public_pages(client, content):
    assert "/learn" in client.get("/").get_data(as_text=True)


def test_unknown_pages_are_404(client, content):
    assert client.get("/learn/no-such-page").status_code == 404
    assert client.get("/leaflets/no-such-leaflet.pdf").status_code == 404
    # A leaflet is not an awareness page and the other way round.
    assert client.get(f"/learn/{leaflets()[0].slug}").status_code == 404
