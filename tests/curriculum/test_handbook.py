"""The lesson handbook: every lesson of a band (or all 24), each with its handout, in one PDF."""

from __future__ import annotations

import io
from pathlib import Path

from pypdf import PdfReader
from sqlalchemy import select

from app import create_app
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


def _kept(app) -> list[str]:
    from core.pdf import KEPT_DIR

    folder = Path(app.instance_path) / KEPT_DIR
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_a_handbook_is_made_once_and_again_when_a_lesson_changes(app, client, login, content):
    """Issue 19: made once and kept in the instance folder, by the digest of what it is made of,
    for every worker and after a restart; a changed lesson or another language makes a new file
    (the older version of the same handbook is removed)."""
    from core import pdf

    made = pdf.RENDERS["curriculum/pdf/handbook.html"]
    login(factories.user(Role.teacher, factories.school()))
    first = client.get("/lessons/handbook.pdf?band=1-4&lang=ru").data
    assert pdf.RENDERS["curriculum/pdf/handbook.html"] == made + 1
    [kept] = _kept(app)
    assert kept.startswith("handbook-1-4-ru.") and not [p for p in _kept(app) if "tmp" in p]
    assert (Path(app.instance_path) / pdf.KEPT_DIR / kept).stat().st_mode & 0o777 == 0o600
    again = client.get("/lessons/handbook.pdf?band=1-4&lang=ru").data
    assert again == first and pdf.RENDERS["curriculum/pdf/handbook.html"] == made + 1

    # Another worker, or the same after a restart: another app on the same instance folder.
    other = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "SECRET_KEY": "test",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "INSTANCE_PATH": app.instance_path,
        }
    )
    other.test_client_class = type(client)
    with other.app_context():
        other_client = other.test_client()
        login(factories.user(Role.teacher, factories.school()), using=other_client)
        assert other_client.get("/lessons/handbook.pdf?band=1-4&lang=ru").data == first
        db.session.remove()
        db.engine.dispose()  # its connections closed, not left to the garbage collector
    assert pdf.RENDERS["curriculum/pdf/handbook.html"] == made + 1

    # Another language: a file of its own.
    client.get("/lessons/handbook.pdf?band=1-4&lang=kk")
    assert pdf.RENDERS["curriculum/pdf/handbook.html"] == made + 2
    assert len(_kept(app)) == 2

    lesson = lessons("1-4")[0]
    lesson.text("ru").title = "Новое название урока"
    lesson.digest = "0" * 64  # what `flask curriculum load` does when a lesson's file changes
    db.session.commit()
    changed = client.get("/lessons/handbook.pdf?band=1-4&lang=ru")
    assert pdf.RENDERS["curriculum/pdf/handbook.html"] == made + 3
    assert "Новое название урока" in pdf_text(changed.data)
    ru = [name for name in _kept(app) if name.startswith("handbook-1-4-ru.")]
    assert len(ru) == 1 and ru != [kept]  # the older version is not kept


def test_a_changed_template_makes_a_new_handbook(app, client, login, content):
    """The layout is an input too: a template changed by a deployment (here the base of every
    PDF, served from a loader put first) makes a new file, not the old layout again."""
    from jinja2 import ChoiceLoader, DictLoader

    from core import pdf

    login(factories.user(Role.teacher, factories.school()))
    client.get("/lessons/handbook.pdf?band=1-4&lang=en")
    made = pdf.RENDERS["curriculum/pdf/handbook.html"]
    [before] = _kept(app)
    env = app.jinja_env
    base = env.loader.get_source(env, "pdf/base.html")[0]
    env.loader = ChoiceLoader([DictLoader({"pdf/base.html": base + "\n"}), env.loader])
    env.cache.clear()
    client.get("/lessons/handbook.pdf?band=1-4&lang=en")
    assert pdf.RENDERS["curriculum/pdf/handbook.html"] == made + 1
    [after] = _kept(app)
    assert after != before
