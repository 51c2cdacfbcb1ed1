"""The staff home page in a real Chromium: what needs action first, with counts, before the
tiles; a danger-now case says what to do now; action buttons are styled (issue 20)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from extensions import db
from incidents.cases import state_machine
from school.models import School, User, utcnow
from tests.browser.helpers import log_in, school_with_counselor, screenshots
from tests.incidents.factories import report

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_counselor_sees_danger_reports_first_and_what_to_do(browsing, seed, tr, lang):
    school = seed(school_with_counselor, f"Home {lang} мектебі")
    tokens = [f"{lang}{n}".ljust(32, "h") for n in range(3)]

    def make():
        school_row = db.session.get(School, school["school_id"])
        reports = [
            report(school_row, is_danger_now=True, description="гаражда", submission_token=t)[0]
            for t in tokens
        ]
        counselor = db.session.scalar(
            db.select(User).where(User.email == school["counselor_email"])
        )
        case = state_machine.open_case(reports[0], by=counselor, now=utcnow())
        db.session.commit()
        return case.label

    label = seed(make)
    page = browsing.page()
    log_in(
        page,
        tr,
        lang,
        school["counselor_email"],
        school["counselor_name"],
        totp_secret=school["counselor_secret"],
    )
    needs = page.locator("section.attention")
    expect(needs.get_by_role("heading", level=2)).to_have_text(tr(lang, "Needs action first"))
    first = needs.get_by_role("listitem").first
    expect(first).to_have_text(
        tr(
            lang,
            "%(num)d critical report (danger now) is waiting for triage",
            "%(num)d critical reports (danger now) are waiting for triage",
            3,
        )
    )
    # Above the tiles, and marked (not the plain white of a tile).
    assert needs.bounding_box()["y"] < page.locator("ul.tiles").bounding_box()["y"]
    background = first.locator("a").evaluate("a => getComputedStyle(a).backgroundColor")
    assert background not in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)")
    screenshots(page, "staff-home", lang)

    first.locator("a").click()
    page.get_by_role("link", name=label).first.click()
    box = page.locator("section.danger-now")
    expect(box).to_contain_text(tr(lang, "The child said they are in danger right now: act now"))
    expect(box.locator('a[href="tel:112"]')).to_be_visible()
    expect(box.locator('a[href="tel:102"]')).to_be_visible()
    expect(box.locator(".urgency-urgent")).to_be_visible()
    # The triage form's button is a styled button, not the browser's grey default.
    submit = page.locator("#triage input[type=submit]")
    color = submit.evaluate("b => getComputedStyle(b).backgroundColor")
    assert color == "rgb(31, 111, 92)"  # --accent
    screenshots(page, "danger-now-case", lang)
