"""A teacher in a real Chromium, in Kazakh and Russian: "Report what I saw" is the first thing on
the home page; the list of the teacher's own reports says what was reported, where it is now and
when the school last answered, not only a date, a number and a status (issue 20)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from extensions import db
from incidents.cases import state_machine
from incidents.cases.enums import RiskLevel, Screening
from incidents.cases.models import TeacherReport
from incidents.intake.models import Perpetrator, Place, ViolenceForm, WhenHappened
from school.models import Role, User, utcnow
from tests import factories
from tests.browser.helpers import axe_violations, log_in, screenshots

pytestmark = pytest.mark.browser


def teacher_and_counselor(lang: str) -> dict:
    school = factories.school(name=f"Мұғалім {lang} мектебі")
    teacher = factories.user(Role.teacher, school, full_name="Дана Ержанова")
    counselor = factories.user(Role.counselor, school, full_name="Айгүл Серікова")
    factories.classroom(school, grade=6, letter="Ә", language="kk", teachers=[teacher])
    db.session.commit()
    return {"email": teacher.email, "name": teacher.full_name, "counselor_id": counselor.id}


def triage_the_report(counselor_id: int) -> None:
    report = db.session.scalars(select(TeacherReport)).all()[-1]
    counselor = db.session.get(User, counselor_id)
    case = state_machine.open_case(report, by=counselor, now=utcnow())
    state_machine.triage(
        case,
        by=counselor,
        screening=Screening.bullying,
        risk=RiskLevel.medium,
        counselor=counselor,
        injury=False,
        now=utcnow(),
    )
    db.session.commit()


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_teacher_reports_first_and_sees_where_the_report_is(browsing, seed, tr, lang):
    data = seed(teacher_and_counselor, lang)
    page = browsing.page()
    log_in(page, tr, lang, data["email"], data["name"])
    tiles = page.locator("ul.tiles > li > a")
    expect(tiles.first).to_have_text(tr(lang, "Report what I saw"))
    # Filled with the accent colour, unlike the plain white tiles after it.
    assert tiles.first.evaluate("a => getComputedStyle(a).backgroundColor") == "rgb(31, 111, 92)"
    screenshots(page, "teacher-home", lang)

    tiles.first.click()
    page.get_by_label(tr(lang, ViolenceForm.TITLES[ViolenceForm.bullying]), exact=True).check()
    who = page.get_by_role("group", name=tr(lang, "Who did it?"))
    who.get_by_label(tr(lang, Perpetrator.TITLES[Perpetrator.students]), exact=True).check()
    page.get_by_label(tr(lang, "Where?"), exact=True).select_option(
        label=tr(lang, Place.TITLES[Place.corridor])
    )
    when = page.get_by_role("group", name=tr(lang, "When?"))
    when.get_by_label(tr(lang, WhenHappened.TITLES[WhenHappened.today]), exact=True).check()
    page.get_by_label(tr(lang, "Class of the child"), exact=True).select_option(label="6Ә")
    page.get_by_label(tr(lang, "What happened"), exact=True).fill("Үзілісте екі бала мазақтады.")
    page.get_by_role("button", name=tr(lang, "Send the report")).click()

    page.goto("/staff")
    page.get_by_role("link", name=tr(lang, "My reports"), exact=True).click()
    row = page.locator("table.my-reports tbody tr").first
    expect(row).to_contain_text(tr(lang, ViolenceForm.TITLES[ViolenceForm.bullying]))
    expect(row).to_contain_text(tr(lang, Place.TITLES[Place.corridor]))
    expect(row).to_contain_text("6Ә")
    expect(row).to_contain_text(tr(lang, "Received, waiting for the school psychologist"))
    expect(row).to_contain_text(tr(lang, "No answer yet"))

    seed(triage_the_report, data["counselor_id"])
    page.reload()
    expect(row).to_contain_text(tr(lang, "The school psychologist is working on it"))
    expect(row).not_to_contain_text(tr(lang, "No answer yet"))
    assert not axe_violations(page, "teacher-reports", contrast=lang == "kk")
    assert not screenshots(page, "teacher-reports", lang)
