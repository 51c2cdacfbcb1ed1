"""Referrals to authorized bodies: the rules table, required referrals and their deadlines, the
letter and the case summary as PDFs, the partner's side, and the rules editor."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from core.model_types import utcnow
from core.opaque import opaque
from extensions import db
from incidents.cases import state_machine
from incidents.cases.enums import (
    ActionKind,
    ReferralStatus,
    ReferralTarget,
    RiskLevel,
    Screening,
)
from incidents.cases.models import ReferralRule
from incidents.intake.models import Perpetrator, ViolenceForm
from incidents.referrals import answers
from incidents.referrals import services as referrals
from school.models import BodyKind, Role
from tests import factories
from tests.incidents.case_factories import (  # noqa: F401 - english_messages is a fixture
    KAZAKH_LETTERS,
    case_in_progress,
    english_messages,
    new_case,
    staffed_school,
    triaged_case,
)

ALL_LETTERS_TEXT = "Әжесі ғимаратқа қарай жүгірді, көңілі ұшты; үйге һәм ауылға ілікті."


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def shipped_rules() -> int:
    with referrals.RULES_CSV.open(encoding="utf-8") as handle:
        return sum(1 for _ in handle) - 1


# --- the rules --------------------------------------------------------------------------------


def test_the_shipped_rules_load_once(app, runner):
    result = runner.invoke(args=["incidents", "load-referral-rules"])
    assert result.exit_code == 0
    assert f"{shipped_rules()} added, 0 updated" in result.output
    assert "0 added, 0 updated" in runner.invoke(args=["incidents", "load-referral-rules"]).output
    rule = db.session.scalar(select(ReferralRule).where(ReferralRule.key == "sexual-police"))
    assert rule.form == ViolenceForm.sexual and rule.target == ReferralTarget.police
    assert rule.within_hours == 24


def test_a_reload_keeps_an_admins_edit_unless_reset_and_never_touches_added_rules(app, runner):
    referrals.load_rules()
    edited = db.session.scalar(select(ReferralRule).where(ReferralRule.key == "sexual-police"))
    edited.within_hours, edited.edited_at = 12, utcnow()
    drifted = db.session.scalar(select(ReferralRule).where(ReferralRule.key == "injury-police"))
    drifted.within_hours = 240
    db.session.add(
        ReferralRule(
            key="local-extra", form=ViolenceForm.belongings, target="social", within_hours=72
        )
    )
    db.session.commit()
    assert referrals.load_rules() == (0, 1)
    db.session.refresh(edited)
    db.session.refresh(drifted)
    assert (edited.within_hours, drifted.within_hours) == (12, 24)
    assert (
        "0 added, 1 updated"
        in runner.invoke(args=["incidents", "load-referral-rules", "--reset"]).output
    )
    db.session.refresh(edited)
    assert edited.within_hours == 24 and edited.edited_at is None
    assert (
        db.session.scalar(
            select(ReferralRule.within_hours).where(ReferralRule.key == "local-extra")
        )
        == 72
    )
    assert db.session.scalar(select(func.count()).select_from(ReferralRule)) == shipped_rules() + 1


def test_triage_never_runs_without_rules(app):
    from sqlalchemy import delete

    staff = staffed_school()
    db.session.execute(delete(ReferralRule))
    db.session.commit()
    case = triaged_case(staff, forms=[ViolenceForm.sexual], screening=Screening.peer_violence)
    assert {r.body_kind for r in case.referrals} == {BodyKind.police, BodyKind.guardianship}
    assert db.session.scalar(select(func.count()).select_from(ReferralRule)) == shipped_rules()


@pytest.mark.parametrize(
    ("report", "screening", "injury", "bodies", "actions"),
    [
        (
            {"forms": [ViolenceForm.sexual]},
            Screening.peer_violence,
            False,
            {BodyKind.police: 24, BodyKind.guardianship: 24},
            set(),
        ),
        (
            {"forms": [ViolenceForm.physical]},
            Screening.peer_violence,
            True,
            {BodyKind.police: 24, BodyKind.guardianship: 24},
            set(),
        ),
        (
            {"forms": [ViolenceForm.verbal], "perpetrator": Perpetrator.school_staff},
            Screening.staff_violence,
            False,
            {BodyKind.education: 24},
            {ActionKind.inform_director},
        ),
        (
            {"forms": [ViolenceForm.psychological]},
            Screening.home_violence,
            False,
            {BodyKind.guardianship: 24, BodyKind.police: 24},
            set(),
        ),
        (
            {"forms": [ViolenceForm.other]},
            Screening.self_harm,
            False,
            {BodyKind.health: 1},
            {ActionKind.talk_parents},
        ),
        ({"forms": [ViolenceForm.verbal]}, Screening.bullying, False, {}, set()),
    ],
)
def test_triage_adds_what_the_rules_require_with_its_deadline(
    app, report, screening, injury, bodies, actions
):
    staff = staffed_school()
    now = utcnow()
    case = triaged_case(staff, screening=screening, injury=injury, now=now, **report)
    found = {r.body_kind: r for r in case.referrals}
    assert {kind: r.deadline_at - now for kind, r in found.items()} == {
        kind: timedelta(hours=h) for kind, h in bodies.items()
    }
    assert all(r.required and r.status == ReferralStatus.draft for r in found.values())
    # Addressed to the body of the school's region.
    assert all(
        r.body is not None and r.body.region_id == staff.school.region_id for r in found.values()
    )
    required_actions = {
        a.kind for a in case.actions if a.required and a.kind != ActionKind.referral
    }
    assert required_actions == actions


def test_a_corrected_screening_lifts_an_unsent_requirement_but_never_a_sent_one(app):
    staff = staffed_school()
    case = triaged_case(staff, screening=Screening.home_violence)
    guardianship, police = sorted(case.referrals, key=lambda r: r.body_kind.value)
    state_machine.send_referral(police, by=staff.counselor, reference_number="5", now=utcnow())
    state_machine.update_details(
        case,
        by=staff.counselor,
        now=utcnow(),
        expected_version=None,
        screening=Screening.peer_conflict,
        risk=RiskLevel.low,
        counselor=staff.counselor,
        injury=False,
        narrative="",
    )
    db.session.commit()
    assert not guardianship.required and guardianship.status == ReferralStatus.draft
    assert police.required and police.status == ReferralStatus.sent
    assert referrals.unsent_required(case) == []


def test_a_region_without_a_body_of_that_kind_falls_back_to_a_national_one(app):
    staff = staffed_school()
    national = factories.body(BodyKind.ombudsman)
    national.region_id = None
    db.session.commit()
    assert referrals.default_body(BodyKind.ombudsman, staff.school) == national
    assert referrals.default_body(BodyKind.social, staff.school) is None


def test_an_inactive_rule_requires_nothing(app):
    staff = staffed_school()
    for rule in db.session.scalars(
        select(ReferralRule).where(ReferralRule.form == ViolenceForm.sexual)
    ):
        rule.active = False
    db.session.commit()
    case = triaged_case(staff, forms=[ViolenceForm.sexual], screening=Screening.peer_violence)
    assert case.referrals == []


# --- the steps of a referral ------------------------------------------------------------------


def test_a_referral_is_sent_with_a_number_and_marks_its_action_done(client, login):
    staff = staffed_school()
    case = triaged_case(staff, forms=[ViolenceForm.sexual], screening=Screening.peer_violence)
    referral = next(r for r in case.referrals if r.body_kind == BodyKind.police)
    login(staff.counselor)
    response = client.post(
        f"/staff/referrals/{opaque(referral.id)}/send", data={"reference_number": ""}
    )
    assert response.status_code == 400
    response = client.post(
        f"/staff/referrals/{opaque(referral.id)}/send", data={"reference_number": "02-11/9"}
    )
    assert response.status_code == 302
    db.session.refresh(referral)
    assert referral.status == ReferralStatus.sent and referral.reference_number == "02-11/9"
    assert referral.sent_by_id == staff.counselor.id and referral.action.done_at is not None
    # Once sent, it cannot change.
    response = client.post(
        f"/staff/referrals/{opaque(referral.id)}",
        data={"body_id": staff.police.id, "language": "ru", "facts": ["forms"]},
    )
    assert response.status_code == 409
    db.session.refresh(referral)
    assert referral.language == "kk"


def test_a_required_draft_cannot_be_deleted_but_an_optional_one_can(client, login):
    staff = staffed_school()
    case = triaged_case(staff, forms=[ViolenceForm.sexual], screening=Screening.peer_violence)
    required = case.referrals[0]
    login(staff.counselor)
    response = client.post(
        f"/staff/cases/{opaque(case.id)}/referrals", data={"body_id": staff.health.id}
    )
    optional = next(r for r in case.referrals if r.body_kind == BodyKind.health)
    assert response.headers["Location"].endswith(f"/staff/referrals/{opaque(optional.id)}")
    client.post(f"/staff/referrals/{opaque(required.id)}/delete")
    client.post(f"/staff/referrals/{opaque(optional.id)}/delete")
    db.session.expire_all()
    assert {r.body_kind for r in case.referrals} == {BodyKind.police, BodyKind.guardianship}


def test_the_case_page_shows_a_late_required_referral_as_overdue(client, login):
    staff = staffed_school()
    long_ago = utcnow() - timedelta(hours=30)
    case = triaged_case(
        staff, forms=[ViolenceForm.sexual], screening=Screening.peer_violence, now=long_ago
    )
    login(staff.counselor)
    page = client.get(f"/staff/cases/{opaque(case.id)}").get_data(as_text=True)
    assert "overdue by" in page
    assert all(referrals.is_overdue(r) for r in case.referrals)
    assert not any(referrals.is_overdue(r, long_ago + timedelta(hours=23)) for r in case.referrals)


# --- letters and summaries --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "title", "body_name"),
    [
        ("kk", "Балаға қатысты зорлық-зомбылық", "Ювеналдық полиция бөлімі"),
        ("ru", "насилия в отношении ребёнка", "Отдел ювенальной полиции"),
    ],
)
def test_the_referral_letter_is_in_the_bodys_language_with_the_chosen_facts(
    client, login, language, title, body_name
):
    staff = staffed_school()
    case = triaged_case(
        staff,
        forms=[ViolenceForm.sexual],
        screening=Screening.peer_violence,
        description="The child's own words stay at school.",
    )
    referral = next(r for r in case.referrals if r.body_kind == BodyKind.police)
    login(staff.counselor)
    client.post(
        f"/staff/referrals/{opaque(referral.id)}",
        data={
            "body_id": staff.police.id,
            "language": language,
            "facts": ["forms", "screening"],
            "facts_text": ALL_LETTERS_TEXT,
        },
    )
    client.post(
        f"/staff/referrals/{opaque(referral.id)}/send", data={"reference_number": "03-04/21"}
    )
    text = text_of(client.get(f"/staff/referrals/{opaque(referral.id)}/letter.pdf").data)
    assert title in text and body_name in text
    assert staff.school.name in text and staff.school.phone in text and "03-04/21" in text
    assert case.label in text and ALL_LETTERS_TEXT in text
    assert set(KAZAKH_LETTERS) <= set(text)
    assert staff.admin.full_name in text and staff.counselor.full_name in text  # signatures
    assert "The child's own words" not in text
    # Facts not chosen are not in the letter.
    assert "Risk level" not in text and "Тәуекел" not in text and "риска" not in text


def test_the_case_summary_is_for_the_file_with_the_narrative(client, login):
    staff = staffed_school()
    case = case_in_progress(staff)
    case.narrative = ALL_LETTERS_TEXT
    db.session.commit()
    login(staff.counselor)
    response = client.get(f"/staff/cases/{opaque(case.id)}/summary.pdf")
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    text = text_of(response.data)
    assert case.label in text and ALL_LETTERS_TEXT in text and set(KAZAKH_LETTERS) <= set(text)
    assert "Talk with the child who was hurt" in text


def test_the_school_admin_gets_neither_the_letter_nor_the_summary(client, login):
    staff = staffed_school()
    case = triaged_case(staff, forms=[ViolenceForm.sexual], screening=Screening.peer_violence)
    login(staff.admin)
    assert client.get(f"/staff/cases/{opaque(case.id)}/summary.pdf").status_code == 403
    assert (
        client.get(f"/staff/referrals/{opaque(case.referrals[0].id)}/letter.pdf").status_code == 403
    )
    assert client.get(f"/staff/referrals/{opaque(case.referrals[0].id)}").status_code == 403


# --- the partner's side -----------------------------------------------------------------------


def sent_referral(staff, kind=BodyKind.police):
    case = case_in_progress(staff, forms=[ViolenceForm.sexual], screening=Screening.peer_violence)
    referral = next(r for r in case.referrals if r.body_kind == kind)
    state_machine.send_referral(referral, by=staff.counselor, reference_number="09-1", now=utcnow())
    db.session.commit()
    return referral


def test_a_partner_sees_only_referrals_sent_to_their_body(client, login):
    staff = staffed_school()
    mine = sent_referral(staff)
    draft_to_us = next(r for r in mine.case.referrals if r.status == ReferralStatus.draft)
    draft_to_us.body = staff.police  # a draft, even addressed to them, stays at school
    db.session.commit()
    other = staffed_school("Басқа мектеп", region_code="KZ-75")
    theirs = sent_referral(other)
    partner = factories.user(Role.partner, body_=staff.police, locale="en")
    login(partner)
    page = client.get("/partner/referrals").get_data(as_text=True)
    assert mine.case.label in page and theirs.case.label not in page
    assert client.get(f"/partner/referrals/{opaque(mine.id)}").status_code == 200
    assert client.get(f"/partner/referrals/{opaque(theirs.id)}").status_code == 404
    assert client.get(f"/partner/referrals/{opaque(draft_to_us.id)}").status_code == 404
    assert client.get(f"/partner/referrals/{opaque(theirs.id)}/letter.pdf").status_code == 404
    assert client.post(f"/partner/referrals/{opaque(theirs.id)}/acknowledge").status_code == 404
    # Never the case itself.
    assert client.get(f"/staff/cases/{opaque(mine.case_id)}").status_code == 403


def test_the_partner_page_shows_the_chosen_facts_and_not_the_story(client, login):
    staff = staffed_school()
    referral = sent_referral(staff)
    referral.case.narrative = "Narrative for counselors only"
    db.session.commit()
    partner = factories.user(Role.partner, body_=staff.police, locale="en")
    login(partner)
    page = client.get(f"/partner/referrals/{opaque(referral.id)}").get_data(as_text=True)
    assert "Sexual violence" in page and staff.school.name in page
    assert "Narrative for counselors only" not in page
    assert referral.case.report.description not in page


def test_a_partner_acknowledges_and_records_the_outcome(client, login):
    staff = staffed_school()
    referral = sent_referral(staff)
    partner = factories.user(Role.partner, body_=staff.police, locale="en")
    login(partner)
    client.post(
        f"/partner/referrals/{opaque(referral.id)}/acknowledge", data={"body_reference": "К-12"}
    )
    db.session.refresh(referral)
    assert referral.status == ReferralStatus.acknowledged and referral.acknowledged_at
    response = client.post(
        f"/partner/referrals/{opaque(referral.id)}/outcome", data={"outcome_note": ""}
    )
    assert response.status_code == 400
    client.post(
        f"/partner/referrals/{opaque(referral.id)}/outcome",
        data={"outcome_note": "Case opened, No. 5.", "confirm": "y"},
    )
    db.session.refresh(referral)
    assert (
        referral.status == ReferralStatus.closed and referral.outcome_note == "Case opened, No. 5."
    )
    # A second outcome is refused.
    response = client.post(
        f"/partner/referrals/{opaque(referral.id)}/outcome",
        data={"outcome_note": "again", "confirm": "y"},
    )
    assert response.status_code == 409
    text = text_of(client.get(f"/partner/referrals/{opaque(referral.id)}/letter.pdf").data)
    assert staff.school.name in text


def test_an_outcome_is_refused_before_the_receipt_is_acknowledged(client, login):
    """Issue 20: the outcome closed a referral nobody had acknowledged; now it is refused with a
    message in the partner's language and nothing changes."""
    staff = staffed_school()
    referral = sent_referral(staff)
    partner = factories.user(Role.partner, body_=staff.police, locale="ru")
    login(partner)
    url = f"/partner/referrals/{opaque(referral.id)}/outcome"
    response = client.post(url, data={"outcome_note": "Возбуждено дело", "confirm": "y"})
    assert response.status_code == 409
    assert "Сначала подтвердите получение" in response.get_data(as_text=True)
    db.session.refresh(referral)
    assert referral.status == ReferralStatus.sent
    assert referral.outcome_note in ("", None) and referral.acknowledged_at is None
    with pytest.raises(referrals.WorkflowError):
        answers.record_outcome(referral, by=partner, note="x", now=utcnow())
    db.session.rollback()
    # The page offers the acknowledgement only, not the outcome.
    page = client.get(f"/partner/referrals/{opaque(referral.id)}").get_data(as_text=True)
    assert "/acknowledge" in page and "/outcome" not in page


def test_recording_the_outcome_asks_for_a_confirmation(client, login):
    staff = staffed_school()
    referral = sent_referral(staff)
    partner = factories.user(Role.partner, body_=staff.police, locale="kk")
    login(partner)
    client.post(f"/partner/referrals/{opaque(referral.id)}/acknowledge", data={})
    url = f"/partner/referrals/{opaque(referral.id)}/outcome"
    page = client.get(f"/partner/referrals/{opaque(referral.id)}").get_data(as_text=True)
    assert 'name="confirm"' in page and "15 минут" in page
    response = client.post(url, data={"outcome_note": "Іс қозғалды"})
    assert response.status_code == 400
    db.session.refresh(referral)
    assert referral.status == ReferralStatus.acknowledged and not referral.outcome_note
    client.post(url, data={"outcome_note": "Іс қозғалды", "confirm": "y"})
    db.session.refresh(referral)
    assert referral.status == ReferralStatus.closed and referral.outcome_note == "Іс қозғалды"


@pytest.mark.parametrize("typed", ["№ 01-15/342", "№01-15/342", "No. 01-15/342", " 01-15/342 "])
def test_a_number_typed_with_its_sign_is_shown_with_one(app, client, login, typed):
    """«№ № 01-15/342» (issue 20): the sign is the page's, so a number typed with it is stored
    without it; the body's own registration number is stored and shown to both sides."""
    staff = staffed_school()
    case = case_in_progress(staff, forms=[ViolenceForm.sexual], screening=Screening.peer_violence)
    referral = next(r for r in case.referrals if r.body_kind == BodyKind.police)
    state_machine.send_referral(referral, by=staff.counselor, reference_number=typed, now=utcnow())
    db.session.commit()
    assert referral.reference_number == "01-15/342"
    partner = factories.user(Role.partner, body_=staff.police, locale="ru")
    login(partner)
    client.post(
        f"/partner/referrals/{opaque(referral.id)}/acknowledge", data={"body_reference": "№ КУИ-7"}
    )
    db.session.refresh(referral)
    assert referral.body_reference == "КУИ-7"
    page = client.get(f"/partner/referrals/{opaque(referral.id)}").get_data(as_text=True)
    assert "№ 01-15/342" in page and "ваш № КУИ-7" in page and "№ №" not in page
    staff.counselor.locale = "ru"
    db.session.commit()
    counselor = app.test_client()
    login(staff.counselor, using=counselor)
    page = counselor.get(f"/staff/referrals/{opaque(referral.id)}").get_data(as_text=True)
    assert "их № КУИ-7" in page and "№ №" not in page


# --- the rules editor -------------------------------------------------------------------------


def test_the_platform_admin_edits_and_adds_rules(client, login):
    staffed_school()
    admin = factories.user(Role.admin, locale="en")
    login(admin)
    assert "sexual-police" in client.get("/admin/referral-rules").get_data(as_text=True)
    rule = db.session.scalar(select(ReferralRule).where(ReferralRule.key == "sexual-police"))
    response = client.post(
        f"/admin/referral-rules/{rule.id}",
        data={
            "key": "sexual-police",
            "form": "sexual",
            "target": "police",
            "within_hours": 12,
            "active": "y",
        },
    )
    assert response.status_code == 302
    db.session.refresh(rule)
    assert rule.within_hours == 12 and rule.screening is None and rule.edited_at is not None
    response = client.post(
        "/admin/referral-rules/new",
        data={"key": "no-condition", "target": "social", "within_hours": 5, "active": "y"},
    )
    assert response.status_code == 400
    assert "at least one condition" in response.get_data(as_text=True)
    response = client.post(
        "/admin/referral-rules/new",
        data={
            "key": "cyber-ombudsman",
            "form": "cyberbullying",
            "injury": "",
            "target": "ombudsman",
            "within_hours": 72,
            "active": "y",
        },
    )
    assert response.status_code == 302
    assert db.session.scalar(select(ReferralRule).where(ReferralRule.key == "cyber-ombudsman"))


@pytest.mark.parametrize("role", [Role.counselor, Role.school_admin, Role.analyst, Role.partner])
def test_only_the_platform_admin_edits_the_rules(client, login, role):
    staff = staffed_school()
    login(factories.user(role, staff.school if role.is_school_role else None))
    assert client.get("/admin/referral-rules").status_code == 403
    assert client.post("/admin/referral-rules/new", data={}).status_code == 403


def test_new_case_from_the_rules_uses_a_fresh_requirement(app):
    staff = staffed_school()
    case = new_case(staff, forms=[ViolenceForm.home], perpetrator=Perpetrator.family)
    assert case.referrals == []  # nothing before triage
