"""The lesson library for staff: filters, the lesson page, the projector view and the handout."""

from __future__ import annotations

import pytest

from curriculum.content import load_library
from curriculum.loader import load_content
from extensions import db
from school.models import Role
from tests import factories
from tests.curriculum.factories import lesson, lesson_toml, pdf_text, write

KAZAKH_LETTERS = "әғқңөұүһі"


@pytest.fixture
def teacher(app):
    return factories.user(Role.teacher, factories.school())


def test_library_filters_by_band_theme_and_language(client, login, content, teacher):
    login(teacher)
    first = lesson("1-4", 1)
    html = client.get("/lessons?band=1-4&lang=kk").get_data(as_text=True)
    assert first.text("kk").title in html
    assert lesson("5-9", 1).text("kk").title not in html

    html = client.get(f"/lessons?theme={first.theme.value}&lang=en").get_data(as_text=True)
    assert first.text("en").title in html
    assert first.text("kk").title not in html

    html = client.get("/lessons?lang=ru&q=" + first.text("ru").title[:12]).get_data(as_text=True)
    assert first.text("ru").title in html


def test_unknown_filter_values_are_ignored(client, login, content, teacher):
    login(teacher)
    response = client.get("/lessons?band=7-8&theme=karate&lang=fr&grade=99")
    assert response.status_code == 200
    assert lesson("10-11", 1).text("kk").title in response.get_data(as_text=True)


def test_lesson_page_shows_every_part_for_the_teacher(client, login, content, teacher):
    login(teacher)
    chosen = lesson("10-11", 1)
    text = chosen.text("kk")
    html = client.get(f"/lessons/{chosen.slug}?lang=kk").get_data(as_text=True)
    assert text.title in html
    for part in ("objectives", "materials", "questions"):
        assert text.body[part][0].split("«")[0][:30] in html
    assert "lesson-body" in html  # the large-type stylesheet applies
    assert "curriculum.css" in html
    assert 'lang="kk"' in html


def test_projector_view_leaves_out_the_note_for_the_teacher(client, login, content, teacher):
    login(teacher)
    chosen = lesson("5-9", 2)
    normal = client.get(f"/lessons/{chosen.slug}?lang=ru").get_data(as_text=True)
    projector = client.get(f"/lessons/{chosen.slug}?lang=ru&view=projector").get_data(as_text=True)
    assert 'class="disclosure"' in normal
    assert 'class="disclosure"' not in projector
    assert "projector" in projector
    assert chosen.text("ru").body["steps"][0]["title"] in projector


def test_unknown_lesson_is_404(client, login, content, teacher):
    login(teacher)
    assert client.get("/lessons/no-such-lesson").status_code == 404
    assert client.get("/lessons/no-such-lesson/handout.pdf").status_code == 404


def test_handout_pdf_in_kazakh_keeps_every_kazakh_letter(app, client, login, teacher, tmp_path):
    handout = (
        "Гауһар, Ұлан, Өмір және Ерғали сыныпта бір-біріне көмектесті. "
        "Әлия: «Мен сені тыңдаймын, қолдаймын, маған ұнады» деді. Үйде не үйрендің? ________"
    )
    write(tmp_path, "lessons", "5-9-01-test.toml", lesson_toml(handout={"kk": handout}))
    load_content(load_library(tmp_path))
    db.session.commit()
    login(teacher)
    response = client.get("/lessons/5-9-01-test/handout.pdf?lang=kk")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    text = pdf_text(response.data)
    for letter in KAZAKH_LETTERS:
        assert letter in text, letter
    assert "Гауһар" in text and "Handout kk" in text
    assert "Аты-жөні" in text  # the worksheet's own labels are in the handout's language


def test_lesson_markdown_is_rendered_and_sanitized(client, login, teacher, tmp_path):
    text = lesson_toml().replace(
        'body = "Do it."',
        'body = "**Pairs** talk. <script>alert(1)</script> <b onclick=x>hi</b>"',
        1,
    )
    write(tmp_path, "lessons", "5-9-01-test.toml", text)
    load_content(load_library(tmp_path))
    db.session.commit()
    login(teacher)
    html = client.get("/lessons/5-9-01-test?lang=kk").get_data(as_text=True)
    assert "<strong>Pairs</strong> talk." in html
    assert "<script>alert" not in html and "<b onclick" not in html
    assert "&lt;script&gt;" in html  # shown as text, never run


def test_real_handouts_render_in_each_language(client, login, content, teacher):
    login(teacher)
    chosen = lesson("1-4", 1)
    for lang in ("kk", "ru", "en"):
        text = pdf_text(client.get(f"/lessons/{chosen.slug}/handout.pdf?lang={lang}").data)
        assert chosen.text(lang).body["handout_title"][:20] in text
    kk = pdf_text(client.get(f"/lessons/{chosen.slug}/handout.pdf?lang=kk").data)
    assert set("әғқңөұүі") <= set(kk)


@pytest.mark.parametrize("role", [Role.partner, Role.analyst])
def test_roles_outside_schools_cannot_open_the_library(client, login, content, role):
    login(factories.user(role))
    chosen = lesson("5-9", 1)
    assert client.get("/lessons").status_code == 403
    assert client.get(f"/lessons/{chosen.slug}").status_code == 403
    assert client.get(f"/lessons/{chosen.slug}/handout.pdf").status_code == 403


def test_anonymous_visitor_is_sent_to_log_in(client, content):
    response = client.get("/lessons")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_dashboard_links_to_the_library_and_the_course(client, login, teacher):
    html = login(teacher).get_data(as_text=True)
    assert "/lessons" in html and "/course" in html and "/lessons/classes" in html
    assert html.count('href="/lessons"') == 1


def test_the_handout_prints_boxes_to_tick_and_one_line_per_blank(client, login, content, teacher):
    """The real handout of «bullying is violence»: the sentences to mark stand on their own lines
    (not run together), and the ticks are boxes drawn by the stylesheet, not «• [ ]»."""
    login(teacher)
    chosen = lesson("5-9", 5)
    for lang, sentence in (("kk", "Бір ай бойы"), ("ru", "Уже месяц")):
        text = pdf_text(client.get(f"/lessons/{chosen.slug}/handout.pdf?lang={lang}").data)
        assert "[ ]" not in text and "[" not in text
        lines = text.splitlines()
        marked = [line for line in lines if sentence in line]
        assert marked and marked[0].lstrip().startswith("_"), marked
        tick = next(line for line in lines if "112" in line and "102" in line)
        assert "•" not in tick, tick
    html = client.get(f"/lessons/{chosen.slug}?lang=ru").get_data(as_text=True)
    assert '<li class="check">' in html and "[ ]" not in html
