"""The counselor's inbox on a phone (375 px): each new report's time left to respond and the
button that opens a case are on the screen, not past its right edge (issue 20)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from extensions import db
from school.models import School
from tests.browser.helpers import PHONE, log_in, school_with_counselor, screenshots
from tests.incidents.factories import report

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_the_inbox_on_a_phone_shows_time_left_and_the_open_button(browsing, seed, tr, lang):
    school = seed(school_with_counselor, f"Телефон {lang} мектебі")

    def make():
        school_row = db.session.get(School, school["school_id"])
        report(school_row, description="Үзілісте мазақтайды", submission_token=lang.ljust(32, "p"))
        db.session.commit()

    seed(make)
    page = browsing.page(viewport=PHONE)
    log_in(
        page,
        tr,
        lang,
        school["counselor_email"],
        school["counselor_name"],
        totp_secret=school["counselor_secret"],
    )
    page.get_by_role("link", name=tr(lang, "Inbox: new reports and open cases")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(tr(lang, "Inbox"))
    row = page.locator("table.inbox tbody tr").first
    time_left = row.locator(".badge").last
    button = row.get_by_role("button", name=tr(lang, "Open a case"))
    for element in (time_left, button, row.get_by_role("link", name=tr(lang, "Read first"))):
        expect(element).to_be_visible()
        box = element.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (
            f"{element.inner_text()!r} lies at {box} on a {PHONE['width']} px screen"
        )
    # No sideways scroll inside the table either.
    wrap = page.locator(".table-wrap").first
    assert wrap.evaluate("w => w.scrollWidth <= w.clientWidth + 1")
    screenshots(page, "inbox-new-report", lang)
