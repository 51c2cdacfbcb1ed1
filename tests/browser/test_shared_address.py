"""A school behind one address in a real browser (issue 20): pupils on the school's one Wi-Fi
each get a receipt; past the ceiling the next pupil gets the form back as typed, with the help
numbers, the quick exit and a kind word in Kazakh, and nothing else goes wrong."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from incidents.intake.forms import PERPETRATOR_CHOICES, VICTIM_CHOICES
from incidents.intake.models import Frequency, Place, ViolenceForm, WhenHappened
from tests import factories
from tests.browser.test_report_and_respond import KK, choice

TYPED = "Сыныпта бір бала мені итеріп жібереді"


def send(page, tr, code: str) -> None:
    page.goto("/lang/kk")
    page.goto(f"/r/{code}")
    what = page.get_by_role("group", name=tr(KK, "What happened?"))
    title = re.escape(tr(KK, ViolenceForm.TITLES[ViolenceForm.bullying]))
    what.get_by_role("checkbox", name=re.compile(f"^{title}")).check()
    choice(page, tr, "Who was hurt?", VICTIM_CHOICES[0].label)
    choice(page, tr, "Who did it?", PERPETRATOR_CHOICES[0].label)
    choice(page, tr, "Where did it happen?", Place.TITLES[Place.classroom])
    choice(page, tr, "How often does it happen?", Frequency.TITLES[Frequency.daily])
    choice(page, tr, "When did it happen last?", WhenHappened.TITLES[WhenHappened.today])
    page.get_by_label(tr(KK, "Tell us in your own words"), exact=True).fill(TYPED)
    page.get_by_role("button", name=tr(KK, "Send"), exact=True).click()


def test_pupils_on_one_wifi_report_and_the_one_over_the_ceiling_keeps_the_text(
    browsing, seed, tr, limits_on, monkeypatch
):
    code = seed(lambda: factories.school("Мектеп № 20").code)
    monkeypatch.setitem(limits_on.config, "REPORT_RATE_LIMIT", "3 per hour")
    for _ in range(3):  # each pupil's own browser, the same address
        pupil = browsing.page(javascript=False, locale="kk-KZ")
        send(pupil, tr, code)
        expect(pupil.get_by_role("heading", level=1)).to_have_text(
            tr(KK, "Thank you for telling us")
        )
    late = browsing.page(javascript=False, locale="kk-KZ")
    send(late, tr, code)
    expect(late.get_by_role("alert").first).to_contain_text("сенің кінәң емес")
    expect(late.get_by_label(tr(KK, "Tell us in your own words"), exact=True)).to_have_value(TYPED)
    for number in ("112", "102", "150"):
        expect(late.locator(f'a[href="tel:{number}"]').first).to_be_visible()
    expect(late.get_by_role("link", name=tr(KK, "Quick exit"))).to_be_visible()
    assert not re.search(r"(?i)(?<!\w)сіз(?!\w)", late.content())
