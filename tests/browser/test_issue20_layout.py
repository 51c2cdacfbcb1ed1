"""Issue 20's leftovers in a real Chromium, in Kazakh and Russian: the duty desk's inbox on a
phone names what each line of a card holds (no bare "—"), the KPI page uses the full width the
dashboard uses at 1280 px, and the report form's file picker is boxed like the other fields
and still a real, labelled, keyboard-reachable file input without JavaScript."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core.opaque import opaque
from extensions import db
from incidents.cases.enums import Screening
from incidents.intake.models import Perpetrator, ViolenceForm
from school.models import Role
from tests import factories
from tests.browser.helpers import (
    DESKTOP,
    PHONE,
    SCREENSHOTS,
    axe_violations,
    log_in,
    phone_overflow,
    screenshots,
)
from tests.browser.test_partner_answer import _sent_referral
from tests.incidents.case_factories import staffed_school, triaged_case
from tests.incidents.factories import report

pytestmark = pytest.mark.browser


def desk_with_a_report(lang: str, prefix: str = "card") -> dict:
    school = factories.school(name=f"Карточка {lang} мектебі", region_code="KZ-71")
    officer = factories.user(
        Role.desk_officer, region_=factories.region("KZ-71"), full_name="Ерлан Сәрсенов"
    )
    made, _code = report(
        school,
        perpetrator=Perpetrator.school_staff,
        description="Мұғалім айқайлайды.",
        submission_token=f"{prefix}{lang}".ljust(32, "c"),
    )
    return {
        "email": officer.email,
        "name": officer.full_name,
        "secret": officer.totp_secret,
        "label": made.label,
    }


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


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_the_partners_answered_page_reads_cleanly(browsing, seed, tr, lang):
    """The status says "closed with an outcome" once, the school's address and telephone are two
    lines, and "undo my answer" is a secondary button, not a second main action."""
    data = seed(_sent_referral, lang)
    page = browsing.page(viewport=DESKTOP)
    log_in(page, tr, lang, data["email"], data["name"], totp_secret=data["secret"])
    page.goto("/partner/referrals")
    page.get_by_role("link", name=data["label"]).click()
    page.get_by_label(tr(lang, "Your registration number")).fill("КУИ-77")
    page.get_by_role("button", name=tr(lang, "Acknowledge receipt")).click()
    answer = page.locator("#answer")
    answer.get_by_label(tr(lang, "Closed with an outcome")).check()
    answer.get_by_label(tr(lang, "Outcome, reason or the body it went to")).fill("Әңгіме өтті.")
    answer.get_by_role("checkbox").check()
    answer.get_by_role("button", name=tr(lang, "Record the answer")).click()
    expect(page.locator("#undo")).to_be_visible()
    status = page.locator("dl.facts div").filter(has_text=tr(lang, "Status")).locator("dd")
    expect(status.locator(".badge")).to_have_count(1)
    school = page.locator("dl.facts div").filter(has_text="Partner").locator("dd")
    expect(school.get_by_role("link", name="+7 7172 11 22 33")).to_be_visible()
    undo = page.get_by_role("button", name=tr(lang, "Undo my answer"))
    assert undo.evaluate("b => getComputedStyle(b).backgroundColor") == "rgba(0, 0, 0, 0)"
    problems = screenshots(page, "partner-undo", lang)
    assert not axe_violations(page, "partner-undo", contrast=lang == "kk")
    assert not problems


def escalation_world(lang: str) -> dict:
    staff = staffed_school(f"Эскалация {lang} мектебі")
    db.session.commit()
    return {
        who: {"email": u.email, "name": u.full_name, "secret": u.totp_secret}
        for who, u in (("admin", staff.admin), ("counselor", staff.counselor))
    }


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_the_escalation_pages_walk_in_kk_and_ru(browsing, seed, tr, lang):
    data = seed(escalation_world, lang)
    for who, path in (("admin", "/school/escalation"), ("counselor", "/staff/escalation")):
        page = browsing.page(viewport=DESKTOP)
        person = data[who]
        log_in(page, tr, lang, person["email"], person["name"], totp_secret=person["secret"])
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        ids = page.evaluate(
            "() => [...document.querySelectorAll('[id]')].map(e => e.id)"
            ".filter((id, i, all) => all.indexOf(id) !== i)"
        )
        assert not ids, ids
        name = "escalation-" + who
        problems = screenshots(page, name, lang)
        assert not axe_violations(page, name, contrast=lang == "kk")
        assert not problems
        page.context.close()


def case_with_duties(lang: str) -> dict:
    staff = staffed_school(f"Міндет {lang} мектебі")
    case = triaged_case(
        staff, forms=[ViolenceForm.sexual], screening=Screening.peer_violence, injury=True
    )
    db.session.commit()
    counselor = staff.counselor
    return {
        "path": f"/staff/cases/{opaque(case.id)}",
        "email": counselor.email,
        "name": counselor.full_name,
        "secret": counselor.totp_secret,
    }


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_the_case_pages_legal_duties_fit_a_phone(browsing, seed, tr, lang):
    data = seed(case_with_duties, lang)
    page = browsing.page(viewport=PHONE)
    log_in(page, tr, lang, data["email"], data["name"], totp_secret=data["secret"])
    page.goto(data["path"])
    duties = page.locator("#duties")
    expect(duties).to_be_visible()
    expect(duties.get_by_role("heading", level=2)).to_have_text(
        tr(lang, "Duties by law and the national model")
    )
    ids = page.evaluate(
        "() => [...document.querySelectorAll('[id]')].map(e => e.id)"
        ".filter((id, i, all) => all.indexOf(id) !== i)"
    )
    assert not ids, ids
    # Every column on the screen: the table needs no sideways scroll at 375 px.
    wrap = duties.locator(".table-wrap")
    assert wrap.evaluate("w => w.scrollWidth <= w.clientWidth + 1")
    expect(duties.get_by_text(tr(lang, "Status"), exact=True).last).to_be_visible()
    duties.locator("summary").first.click()
    duties.scroll_into_view_if_needed()
    duties.screenshot(path=str(SCREENSHOTS / f"case-duties-section-{lang}-375.png"))
    problems = screenshots(page, "case-duties", lang)
    assert not axe_violations(page, "case-duties", contrast=lang == "kk")
    assert not problems


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_the_desk_report_page_names_what_is_not_given(browsing, seed, tr, lang):
    data = seed(desk_with_a_report, lang, "facts")
    page = browsing.page(viewport=PHONE)
    log_in(page, tr, lang, data["email"], data["name"], totp_secret=data["secret"])
    page.goto("/desk/inbox")
    page.get_by_role("link", name=data["label"], exact=True).click()
    facts = page.locator("main dl")
    expect(facts.first).to_contain_text(tr(lang, "Not opened yet"))
    for text in facts.all_inner_texts():
        assert "—" not in text, text
    problems = screenshots(page, "desk-report-facts", lang)
    assert not axe_violations(page, "desk-report-facts", contrast=lang == "kk")
    assert not problems
