"""The duty desk's path in a real Chromium, in Kazakh and Russian (issue 16): a child reports a
teacher; the regional desk officer logs in with two-factor log-in, finds the report in the
desk's inbox, reads it, answers the child, opens the case and hands the report to the school;
the child reads the desk's answer with the secret code. axe finds nothing serious on the way."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from incidents.intake.models import Perpetrator, Priority
from school.models import Role
from tests import factories
from tests.browser.helpers import axe_violations, choose_language, log_in, screenshots
from tests.incidents.factories import report

pytestmark = pytest.mark.browser

STORY = "Мұғалім мені сынып алдында ұрды."
ANSWER = {
    "kk": "Сәлем! Біз өңірлік қызметтенбіз. Сені тыңдаймыз, бүгін көмектесеміз.",
    "ru": "Привет! Мы из областной службы. Мы тебя слышим и поможем сегодня.",
}


def desk_world(lang: str) -> dict:
    school = factories.school(name=f"Кезекші {lang} мектебі", region_code="KZ-71")
    factories.user(Role.counselor, school, full_name="Айгүл Серікова")
    officer = factories.user(
        Role.desk_officer, region_=factories.region("KZ-71"), full_name="Ерлан Сәрсенов"
    )
    made, code = report(
        school,
        perpetrator=Perpetrator.school_staff,
        description=STORY,
        submission_token=f"desk{lang}".ljust(32, "d"),
    )
    return {
        "email": officer.email,
        "name": officer.full_name,
        "secret": officer.totp_secret,
        "label": made.label,
        "code": code,
        "critical": made.priority == Priority.critical,
    }


def no_serious_findings(page, name: str, lang: str) -> None:
    found = axe_violations(page, name, contrast=lang == "kk")
    assert not found, found


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_desk_officer_reads_answers_opens_the_case_and_hands_it_back(browsing, seed, tr, lang):
    data = seed(desk_world, lang)
    page = browsing.page()
    log_in(page, tr, lang, data["email"], data["name"], totp_secret=data["secret"])
    page.get_by_role("link", name=tr(lang, "Duty desk: reports routed to us")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        tr(lang, "Duty desk: reports routed to us")
    )
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=data["label"]))
    expect(row).to_be_visible()
    no_serious_findings(page, "desk-inbox", lang)
    assert not screenshots(page, "desk-inbox", lang)

    row.get_by_role("link", name=data["label"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        tr(lang, "Report %(label)s", label=data["label"])
    )
    expect(page.locator("#report .narrative")).to_have_text(STORY)
    no_serious_findings(page, "desk-report", lang)

    messages = page.locator("#messages")
    messages.get_by_label(tr(lang, "Message to the student")).fill(ANSWER[lang])
    messages.get_by_role("button", name=tr(lang, "Send to the student")).click()
    expect(page.get_by_role("status")).to_contain_text(
        tr(lang, "Your message has been sent. The student will see it with their receipt code.")
    )
    expect(page.locator("#messages .message")).to_contain_text([ANSWER[lang]])

    decide = page.locator("#decide")
    decide.get_by_role("button", name=tr(lang, "Open a case")).click()
    expect(page.get_by_role("status")).to_contain_text(tr(lang, "The case is open."))
    no_serious_findings(page, "desk-report-case", lang)
    assert not screenshots(page, "desk-report", lang)

    # The child comes back with the secret code and reads the desk's answer; while the desk
    # holds the report alone, the page does not say the school psychologist reads it.
    child = browsing.page()  # axe needs JavaScript; the no-JavaScript path has its own test
    child.goto("/")
    choose_language(child, lang)
    child.goto("/r/check")
    child.get_by_label(tr(lang, "Your code"), exact=True).fill(data["code"])
    child.get_by_role("button", name=tr(lang, "Open"), exact=True).click()
    expect(child.get_by_role("list").filter(has_text=ANSWER[lang])).to_be_visible()
    expect(child.get_by_role("heading", level=1)).to_have_text(
        tr(lang, "Your conversation with the regional child protection service")
    )
    expect(child.locator("#answer")).to_have_text(
        tr(lang, "Write to the regional child protection service")
    )
    expect(child.locator("main")).not_to_contain_text(tr(lang, "School psychologist"))
    no_serious_findings(child, "desk-child-conversation", lang)
    assert not screenshots(child, "desk-child-conversation", lang)

    page.locator("#decide").get_by_role(
        "button", name=tr(lang, "Hand the report to the school")
    ).click()
    expect(page.get_by_role("status")).to_contain_text(
        tr(lang, "The report is now with the school's psychologists.")
    )
    expect(page.get_by_role("heading", level=1)).to_have_text(
        tr(lang, "Duty desk: reports routed to us")
    )
