"""Issue 20's leftovers in a real Chromium, in Kazakh and Russian: the duty desk's inbox on a
phone names what each line of a card holds (no bare "—"), the KPI page uses the full width the
dashboard uses at 1280 px, and the report form's file picker is boxed like the other fields
and still a real, labelled, keyboard-reachable file input without JavaScript."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from incidents.intake.models import Perpetrator
from school.models import Role
from tests import factories
from tests.browser.helpers import (
    DESKTOP,
    PHONE,
    axe_violations,
    log_in,
    phone_overflow,
    screenshots,
)
from tests.incidents.factories import report

pytestmark = pytest.mark.browser


def desk_with_a_report(lang: str) -> dict:
    school = factories.school(name=f"Карточка {lang} мектебі", region_code="KZ-71")
    officer = factories.user(
        Role.desk_officer, region_=factories.region("KZ-71"), full_name="Ерлан Сәрсенов"
    )
    report(
        school,
        perpetrator=Perpetrator.school_staff,
        description="Мұғалім айқайлайды.",
        submission_token=f"card{lang}".ljust(32, "c"),
    )
    return {"email": officer.email, "name": officer.full_name, "secret": officer.totp_secret}


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_the_desk_inbox_cards_on_a_phone_name_each_line(browsing, seed, tr, lang):
    data = seed(desk_with_a_report, lang)
    page = browsing.page(viewport=PHONE)
    log_in(page, tr, lang, data["email"], data["name"], totp_secret=data["secret"])
    page.goto("/desk/inbox")
    card = page.locator("table.inbox tbody tr").first
    expect(card).to_be_visible()
    text = card.inner_text()
    for label in ("School", "Received", "Who holds it", "Case"):
        assert tr(lang, label) in text, (label, text)
    assert tr(lang, "Not opened yet") in text, text
    assert "—" not in text, text
    assert not phone_overflow(page)
    screenshots(page, "desk-inbox-cards", lang)
    assert not axe_violations(page, "desk-inbox-cards", contrast=lang == "kk")


def analyst(lang: str) -> dict:
    region = factories.region("KZ-75")
    factories.school(f"Көрсеткіш {lang} мектебі", region_code="KZ-75")
    user = factories.user(Role.analyst, region_=region, full_name="Асель Нұрланқызы")
    return {"email": user.email, "name": user.full_name, "secret": user.totp_secret}


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_the_kpi_page_uses_the_full_width_at_1280(browsing, seed, tr, lang):
    data = seed(analyst, lang)
    page = browsing.page(viewport=DESKTOP)
    log_in(page, tr, lang, data["email"], data["name"], totp_secret=data["secret"])
    page.goto("/insights/")
    dashboard = page.locator("main").bounding_box()["width"]
    page.goto("/insights/kpis")
    expect(page.get_by_role("heading", level=1)).to_contain_text(tr(lang, "Programme evidence"))
    width = page.locator("main").bounding_box()["width"]
    assert width == dashboard and width > 1100, (width, dashboard)
    for wrap in page.locator(".table-wrap").all():
        if wrap.is_visible():
            assert wrap.evaluate("w => w.scrollWidth <= w.clientWidth + 1"), wrap.inner_text()[:80]
    screenshots(page, "kpis-wide", lang)
    assert not axe_violations(page, "kpis-wide", contrast=lang == "kk")


@pytest.mark.parametrize("javascript", [True, False])
def test_the_file_picker_looks_like_the_other_fields_and_stays_a_labelled_input(
    browsing, seed, tr, javascript
):
    code = seed(lambda: factories.school("Мектеп № 33").code)
    page = browsing.page(javascript=javascript, viewport=PHONE)
    page.goto("/lang/kk")
    page.goto(f"/r/{code}")
    picker = page.get_by_label(tr("kk", "Photos, screenshots or PDF files (if you have them)"))
    expect(picker).to_have_attribute("type", "file")
    text_box = page.get_by_label(tr("kk", "Tell us in your own words"), exact=True)

    def look(locator) -> dict:
        return locator.evaluate(
            "e => { const s = getComputedStyle(e); return {border: s.borderTopWidth + ' '"
            " + s.borderTopStyle + ' ' + s.borderTopColor, radius: s.borderTopLeftRadius,"
            " bg: s.backgroundColor} }"
        )

    assert look(picker) == look(text_box)
    box = picker.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    if javascript:
        picker.focus()
        expect(picker).to_be_focused()
        picker.scroll_into_view_if_needed()
        screenshots(page, "file-picker", "kk")
