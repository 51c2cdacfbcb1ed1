"""The partner's path in a real Chromium (issue 20, issue 16): a partner of the police sees the
referral sent to their body, acknowledges it with their own registration number (typed with a
«№», shown with one), records the answer only after that, confirms it, and can undo it; the
pages are the staff pages' style and axe finds nothing serious or critical."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core.model_types import utcnow
from extensions import db
from incidents.cases import state_machine
from incidents.cases.enums import Screening
from incidents.cases.models import Referral
from incidents.intake.models import ViolenceForm
from school.models import BodyKind, Role
from tests import factories
from tests.browser.helpers import axe_violations, log_in, screenshots
from tests.incidents.case_factories import staffed_school, triaged_case

pytestmark = pytest.mark.browser


def _sent_referral(lang: str) -> dict:
    staff = staffed_school(f"Partner {lang} мектебі")
    case = triaged_case(staff, forms=[ViolenceForm.sexual], screening=Screening.peer_violence)
    referral = next(r for r in case.referrals if r.body_kind == BodyKind.police)
    referral.body = staff.police  # this school's body (an earlier test's is in the same region)
    state_machine.send_referral(
        referral, by=staff.counselor, reference_number="01-15/342", now=utcnow()
    )
    partner = factories.user(Role.partner, body_=staff.police, full_name="Ерлан Полицейский")
    db.session.commit()
    return {
        "referral_id": referral.id,
        "label": case.label,
        "email": partner.email,
        "name": partner.full_name,
        "secret": partner.totp_secret,
    }


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_partner_acknowledges_then_answers_and_may_undo(browsing, seed, tr, lang):
    data = seed(_sent_referral, lang)
    page = browsing.page()
    log_in(page, tr, lang, data["email"], data["name"], totp_secret=data["secret"])
    page.goto("/partner/referrals")
    page.get_by_role("link", name=data["label"]).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(data["label"])
    # Before the acknowledgement, no answer can be recorded.
    expect(page.locator("#answer")).to_have_count(0)
    assert "№ №" not in page.content()
    assert axe_violations(page, "partner-referral", contrast=lang == "kk") == []
    screenshots(page, "partner-referral", lang)

    page.get_by_label(tr(lang, "Your registration number")).fill("№ КУИ-77")
    page.get_by_role("button", name=tr(lang, "Acknowledge receipt")).click()
    expect(page.locator("#answer")).to_be_visible()
    expect(page.locator("dl.facts").first).to_contain_text("№ КУИ-77")
    assert "№ №" not in page.content()
    # The styled button of the staff pages, not the browser's default.
    button = page.locator("#answer input[type=submit]")
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(31, 111, 92)"

    # Without the confirmation the answer is refused and nothing closes.
    answer = page.locator("#answer")
    answer.get_by_label(tr(lang, "Closed with an outcome")).check()
    answer.get_by_label(tr(lang, "Outcome, reason or the body it went to")).fill(
        "Профилактикалық әңгіме өткізілді."
    )
    answer.get_by_role("button", name=tr(lang, "Record the answer")).click()
    expect(page.locator(".error-summary")).to_be_visible()
    assert axe_violations(page, "partner-answer-errors", contrast=False) == []
    answer = page.locator("#answer")
    answer.get_by_label(tr(lang, "Outcome, reason or the body it went to")).fill(
        "Профилактикалық әңгіме өткізілді."
    )
    answer.get_by_role("checkbox").check()
    answer.get_by_role("button", name=tr(lang, "Record the answer")).click()
    expect(page.locator(".flash")).to_contain_text(
        tr(lang, "Your answer has been recorded. The school can see it. Thank you.")
    )
    expect(page.locator("#undo")).to_be_visible()
    assert axe_violations(page, "partner-answered", contrast=lang == "kk") == []
    screenshots(page, "partner-answered", lang)

    page.get_by_role("button", name=tr(lang, "Undo my answer")).click()
    expect(page.locator("#answer")).to_be_visible()

    def status():
        return db.session.get(Referral, data["referral_id"]).status.value

    assert seed(status) == "acknowledged"
