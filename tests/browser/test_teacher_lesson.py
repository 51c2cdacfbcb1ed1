"""A teacher in a real Chromium: finds a lesson in the library, downloads its handout as a PDF
and logs that the lesson was given in their class."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from curriculum.models import BAND_TITLES, Delivery, Lesson
from extensions import db
from school.models import Role
from tests import factories
from tests.browser.helpers import log_in, pdf_text, section

pytestmark = pytest.mark.browser

EN, KK = "en", "kk"
SLUG = "5-9-05-bullying-is-violence"


def teacher_with_class() -> dict:
    school = factories.school(name="Ақсу ауылының № 3 мектебі")
    teacher = factories.user(Role.teacher, school, full_name="Дана Ержанова")
    classroom = factories.classroom(school, grade=6, letter="Ә", language=KK)
    classroom.teachers.append(teacher)
    db.session.commit()
    lesson = db.session.scalar(select(Lesson).where(Lesson.slug == SLUG))
    text = lesson.text(KK)
    return {
        "email": teacher.email,
        "name": teacher.full_name,
        "class_id": classroom.id,
        "class_label": classroom.label,
        "title": text.title,
        "handout_title": text.body["handout_title"],
        "steps": len(text.body["steps"]),
    }


def deliveries(class_id: int) -> list[tuple[str, int, int, str]]:
    rows = db.session.scalars(select(Delivery).where(Delivery.classroom_id == class_id)).all()
    return [(d.lesson.slug, d.students_present, d.steps_done_count, d.reflection) for d in rows]


def test_teacher_finds_a_lesson_downloads_the_handout_and_logs_the_lesson(
    browsing, seed, tr, curriculum_content
):
    data = seed(teacher_with_class)
    page = browsing.page()
    log_in(page, tr, EN, data["email"], data["name"])

    page.get_by_role("link", name=tr(EN, "Lesson library"), exact=True).click()
    filters = page.get_by_role("search", name=tr(EN, "Filter lessons"))
    filters.get_by_label(tr(EN, "Grades")).select_option(label=tr(EN, BAND_TITLES["5-9"]))
    filters.get_by_label(tr(EN, "Language of the lesson")).select_option(label="Қазақша")
    # The title in capitals: the search folds Kazakh letters too.
    filters.get_by_label(tr(EN, "Words in the title")).fill(data["title"].upper())
    filters.get_by_role("button", name=tr(EN, "Show")).click()
    expect(page.get_by_role("heading", level=2)).to_have_text([data["title"]])

    page.get_by_role("link", name=data["title"], exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(data["title"])
    # Chromium shows the PDF in its viewer (the server sends it inline), whose page hides the
    # bytes: keep a copy of the response on its way to the viewer.
    received = []

    def keep(route) -> None:
        response = route.fetch()
        received.append((response.status, response.headers, response.body()))
        route.fulfill(response=response)

    page.route(re.compile(r"/handout\.pdf"), keep)
    page.get_by_role("link", name=tr(EN, "Download the handout (PDF, A4)")).click()
    expect(page).to_have_url(re.compile(r"/handout\.pdf"))
    status, headers, body = received[0]
    assert status == 200
    assert headers["content-type"] == "application/pdf"
    assert f'filename="{SLUG}-{KK}.pdf"' in headers["content-disposition"]
    text = pdf_text(body)
    assert data["handout_title"] in " ".join(text.split())
    assert set("әғқңөұүі") & set(text), "Kazakh letters must survive in the PDF"

    page.go_back()
    classes = section(page, tr(EN, "Give this lesson in your class"))
    class_row = classes.get_by_role("listitem").filter(has_text=data["class_label"])
    class_row.get_by_role("link", name=tr(EN, "Log the lesson")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(tr(EN, "Log a lesson"))
    expect(page.get_by_label(tr(EN, "Minutes actually used"))).not_to_have_value("")
    page.get_by_label(tr(EN, "Students present")).fill("24")
    steps = page.get_by_role("group", name=tr(EN, "Steps that were done"))
    expect(steps.get_by_role("checkbox")).to_have_count(data["steps"])
    steps.get_by_role("checkbox").last.uncheck()
    page.get_by_label(tr(EN, "Short reflection")).fill("The role play took longer than planned.")
    page.get_by_role("button", name=tr(EN, "Save"), exact=True).click()

    expect(page.get_by_role("status")).to_have_text(
        tr(EN, "The lesson has been logged. Thank you!")
    )
    expect(page.get_by_role("heading", level=1)).to_contain_text(data["class_label"])
    assert seed(deliveries, data["class_id"]) == [
        (SLUG, 24, data["steps"] - 1, "The role play took longer than planned.")
    ]
