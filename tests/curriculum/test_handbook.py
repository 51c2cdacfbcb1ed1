"""The lesson handbook: every lesson of a band (or all 24), each with its handout, in one PDF."""

from __future__ import annotations

import io

from pypdf import PdfReader
from sqlalchemy import select

from curriculum.models import Lesson
from extensions import db
from school.models import Role
from tests import factories
from tests.curriculum.factories import pdf_text


def lessons(band: str | None = None) -> list[Lesson]:
    query = select(Lesson).where(Lesson.retired.is_(False)).order_by(Lesson.band, Lesson.position)
    if band:
        query = query.where(Lesson.band == band)
    return list(db.session.scalars(query))


def test_a_teacher_prints_the_handbook_of_grades_5_to_9_in_kazakh(app, client, login, content):
    teacher = factories.user(Role.teacher, factories.school())
    login(teacher)
    library = client.get("/lessons?band=5-9&lang=kk").get_data(as_text=True)
    assert "/lessons/handbook.pdf?band=5-9&amp;lang=kk" in library

    response = client.get("/lessons/handbook.pdf?band=5-9&lang=kk")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    band = lessons("5-9")
    assert band
    for lesson in band:
        kk = lesson.text("kk")
        assert kk.title in text and kk.body["handout_title"] in text
    for lesson in lessons("1-4"):
        assert lesson.text("kk").title not in text
    assert all(letter in text for letter in "әғқңөұүі")
    # A page for the contents, then each lesson and its handout on pages of their own.
    assert len(PdfReader(io.BytesIO(response.data)).pages) >= 1 + 2 * len(band)


def test_the_handbook_of_every_lesson_holds_all_of_them(app, client, login, content):
    login(factories.user(Role.counselor, factories.school()))
    response = client.get("/lessons/handbook.pdf?lang=ru")
    assert response.status_code == 200
    text = pdf_text(response.data)
    every = lessons()
    assert len(every) == 24
    assert all(lesson.text("ru").title in text for lesson in every)


def test_the_handbook_is_for_staff_who_teach(app, client, login, content):
    assert client.get("/lessons/handbook.pdf").status_code == 302  # to the log-in page
    login(factories.user(Role.analyst, None))
    assert client.get("/lessons/handbook.pdf").status_code == 403


def test_a_handbook_is_made_once_and_again_when_a_lesson_changes(
    app, client, login, content, monkeypatch
):
    from curriculum import views

    made = []
    render = views.render_pdf
    monkeypatch.setattr(
        views, "render_pdf", lambda *a, **k: made.append(k["band"]) or render(*a, **k)
    )
    monkeypatch.setattr(views, "HANDBOOKS", {})
    login(factories.user(Role.teacher, factories.school()))
    first = client.get("/lessons/handbook.pdf?band=1-4&lang=ru").data
    again = client.get("/lessons/handbook.pdf?band=1-4&lang=ru").data
    assert again == first and made == ["1-4"]  # the second teacher gets the same bytes at once
    lesson = lessons("1-4")[0]
    lesson.text("ru").title = "Новое название урока"
    lesson.digest = "0" * 64  # what `flask curriculum load` does when a lesson's file changes
    db.session.commit()
    changed = client.get("/lessons/handbook.pdf?band=1-4&lang=ru")
    assert made == ["1-4", "1-4"] and "Новое название урока" in pdf_text(changed.data)
    assert len(views.HANDBOOKS) == 1  # the older version is not kept
