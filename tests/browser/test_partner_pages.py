"""The partner's journey in a real Chromium, in Kazakh and Russian, for the screenshots of issue
20's walk: an officer of the juvenile police logs in with two-factor log-in, finds the referral
sent to their body and opens it; axe finds nothing serious. (Acknowledging and recording the
outcome have their own tests.)"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core.model_types import utcnow
from extensions import db
from incidents.cases import state_machine
from incidents.cases.enums import Screening
from incidents.intake.models import ViolenceForm
from school.models import BodyKind, Role
from tests import factories
from tests.browser.helpers import axe_violations, log_in, screenshots
from tests.incidents.case_factories import case_in_progress, staffed_school

pytestmark = pytest.mark.browser


def referral_to_the_police(lang: str) -> dict:
    staff = staffed_school(f"Серіктес {lang} мектебі")
    case = case_in_progress(staff, forms=[ViolenceForm.sexual], screening=Screening.peer_violence)
    referral = next(r for r in case.referrals if r.body_kind == BodyKind.police)
    referral.body = staff.police
    state_machine.send_referral(
        referral, by=staff.counselor, reference_number="01-15/342", now=utcnow()
    )
    db.session.commit()
    officer = factories.user(Role.partner, body_=staff.police, full_name="Дәурен Қасымов")
    return {
        "email": officer.email,
        "name": officer.full_name,
        "secret": officer.totp_secret,
        "label": case.label,
    }


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_partner_finds_and_opens_the_referral_sent_to_their_body(browsing, seed, tr, lang):
    data = seed(referral_to_the_police, lang)
    page = browsing.page()
    log_in(page, tr, lang, data["email"], data["name"], totp_secret=data["secret"])
    page.get_by_role("link", name=tr(lang, "Referrals to our body")).click()
    link = page.get_by_role("link", name=data["label"])
    expect(link).to_be_visible()
    assert not axe_violations(page, "partner-list", contrast=lang == "kk")
    screenshots(page, "partner-list", lang)
    link.click()
    expect(page.locator("main")).to_contain_text(tr(lang, ViolenceForm.TITLES[ViolenceForm.sexual]))
    assert not axe_violations(page, "partner-referral", contrast=lang == "kk")
    screenshots(page, "partner-referral", lang)
