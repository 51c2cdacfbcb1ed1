"""The case state machine: the whole path from a student's report to an approved closure, and
every guard on the way."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.audit import AuditEntry
from core.audit_verify import verify_chain
from core.model_types import utcnow
from core.opaque import opaque
from extensions import db
from incidents.cases import case_steps, state_machine
from incidents.cases.case_steps import WorkflowError
from incidents.cases.enums import (
    ActionKind,
    CaseState,
    ClosureDecision,
    Outcome,
    ReferralStatus,
    RiskLevel,
    Screening,
)
from incidents.cases.models import Case, CaseTransition
from incidents.intake.models import Perpetrator, Priority, Report, ViolenceForm
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
from tests.incidents.factories import form_data

ALL_LETTERS_TEXT = "Әжесі ғимаратқа қарай жүгірді, көңілі ұшты; үйге һәм ауылға ілікті."


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def student_code(response) -> str:
    return re.search(r"<code>([\d ]+)</code>", response.get_data(as_text=True)).group(1)


def student_page(app, code: str) -> str:
    """What the student sees with their code (in English, for the assertions)."""
    student = app.test_client()
    student.get("/lang/en")
    student.post("/r/check", data={"code": code})
    return student.get("/r/conversation").get_data(as_text=True)


def test_a_report_goes_through_triage_referral_monitoring_and_an_approved_closure(app, login):
    staff = staffed_school()
    partner = factories.user(Role.partner, body_=staff.police, full_name="Ержан Полицейский")
    student = app.test_client()
    counselor = app.test_client()
    director = app.test_client()
    police = app.test_client()

    # A student reports sexual violence, in Kazakh, and keeps the receipt.
    description = "Жоғары сынып оқушысы дәретханада маған тиісті. Қорқамын."
    response = student.post(
        f"/r/{staff.school.code}",
        data=form_data(forms=["sexual"], description=description, frequency="once"),
    )
    code = student_code(response)
    report = db.session.scalar(select(Report).where(Report.school_id == staff.school.id))
    assert report.priority == Priority.high

    # The counselor finds it in the inbox and opens a case.
    login(staff.counselor, using=counselor)
    inbox = counselor.get("/staff/inbox").get_data(as_text=True)
    assert report.label in inbox and "left" in inbox
    response = counselor.post(f"/staff/reports/{opaque(report.id)}/open")
    case = db.session.scalar(select(Case).where(Case.report_id == report.id))
    assert response.headers["Location"].endswith(f"/staff/cases/{opaque(case.id)}")
    page = counselor.get(f"/staff/cases/{opaque(case.id)}").get_data(as_text=True)
    assert description in page and case.state == CaseState.new

    # A first reply, started from a ready reply in Kazakh and edited.
    page = counselor.get(f"/staff/cases/{opaque(case.id)}?reply=thanks&lang=kk").get_data(
        as_text=True
    )
    ready = case_steps.ready_reply("thanks", "kk")
    assert ready and ready in page
    reply = ready + " Ертең үзілісте 12-кабинетке келе аласың ба?"
    counselor.post(f"/staff/cases/{opaque(case.id)}/messages", data={"body": reply})
    db.session.refresh(report)
    assert report.first_response_at is not None
    assert reply in student_page(app, code)

    # Triage: the rules require the police and the guardianship body within 24 hours.
    response = counselor.post(
        f"/staff/cases/{opaque(case.id)}/triage",
        data={
            "screening": "peer_violence",
            "risk": "high",
            "counselor_id": staff.counselor.id,
            "version": case.version,
        },
    )
    assert response.status_code == 302
    db.session.refresh(case)
    assert case.state == CaseState.triaged
    required = {r.body_kind: r for r in case.referrals}
    assert set(required) == {BodyKind.police, BodyKind.guardianship}
    assert all(r.required and r.status == ReferralStatus.draft for r in required.values())
    police_referral = required[BodyKind.police]
    assert police_referral.deadline_at - case.triaged_at == timedelta(hours=24)
    assert "An adult is looking into it" in student_page(app, code)

    # People and a plan; work starts.
    classroom = factories.classroom(staff.school, 7, "Ә")
    counselor.post(
        f"/staff/cases/{opaque(case.id)}/people",
        data={"role": "victim", "kind": "student", "classroom_id": classroom.id, "alias": "А."},
    )
    for kind in ("talk_victim", "safety_plan"):
        response = counselor.post(
            f"/staff/cases/{opaque(case.id)}/actions",
            data={"kind": kind, "due_on": utcnow().date().isoformat(), "person_id": 0},
        )
        assert response.status_code == 302, response.get_data(as_text=True)
    db.session.refresh(case)
    response = counselor.post(
        f"/staff/cases/{opaque(case.id)}/step",
        data={"to_state": "in_progress", "version": case.version},
    )
    assert response.status_code == 302
    db.session.refresh(case)
    assert case.state == CaseState.in_progress

    # It cannot be closed while the required referrals are unsent.
    response = counselor.post(
        f"/staff/cases/{opaque(case.id)}/close",
        data={"outcome": "resolved", "closing_note": "Done.", "version": case.version},
    )
    assert response.status_code == 409
    assert "has not been sent" in response.get_data(as_text=True)
    db.session.refresh(case)
    assert case.state == CaseState.in_progress

    # The letter to the police, in Kazakh, with the facts the counselor chose.
    counselor.post(
        f"/staff/referrals/{opaque(police_referral.id)}",
        data={
            "body_id": staff.police.id,
            "language": "kk",
            "facts": ["forms", "place", "class"],
            "facts_text": ALL_LETTERS_TEXT,
        },
    )
    letter = counselor.get(f"/staff/referrals/{opaque(police_referral.id)}/letter.pdf")
    assert letter.mimetype == "application/pdf"
    text = text_of(letter.data)
    assert staff.school.name in text and "Ювеналдық полиция бөлімі" in text
    assert case.label in text and "7Ә" in text and ALL_LETTERS_TEXT in text
    assert set(KAZAKH_LETTERS) <= set(text)
    assert description not in text  # the student's own words stay at school
    for referral in case.referrals:
        response = counselor.post(
            f"/staff/referrals/{opaque(referral.id)}/send",
            data={"reference_number": f"01-15/{referral.id}"},
        )
        assert response.status_code == 302
    db.session.refresh(case)
    counselor.post(
        f"/staff/cases/{opaque(case.id)}/step",
        data={"to_state": "referred", "version": case.version},
    )
    db.session.refresh(case)
    assert case.state == CaseState.referred

    # The police partner acknowledges and records the outcome.
    login(partner, using=police)
    assert case.label in police.get("/partner/referrals").get_data(as_text=True)
    police.post(
        f"/partner/referrals/{opaque(police_referral.id)}/acknowledge",
        data={"body_reference": "КУИ-77"},
    )
    police.post(
        f"/partner/referrals/{opaque(police_referral.id)}/outcome",
        data={
            "outcome_note": "Profilactic talk held with the older student and his parents.",
            "confirm": "y",
        },
    )
    db.session.refresh(police_referral)
    assert police_referral.status == ReferralStatus.closed
    assert police_referral.body_reference == "КУИ-77"

    # Monitoring: the follow-up check is scheduled two weeks ahead.
    counselor.post(
        f"/staff/cases/{opaque(case.id)}/step",
        data={"to_state": "monitoring", "version": case.version},
    )
    db.session.refresh(case)
    assert case.state == CaseState.monitoring
    follow_up = next(a for a in case.actions if a.kind == ActionKind.follow_up)
    assert (follow_up.due_on - utcnow().date()).days in (13, 14, 15)

    # The student writes back; the counselor reads it on the case page.
    student_client = app.test_client()
    student_client.post("/r/check", data={"code": code})
    student_client.post("/r/conversation", data={"body": "Рахмет, қазір жақсырақ."})
    assert "Рахмет, қазір жақсырақ." in counselor.get(f"/staff/cases/{opaque(case.id)}").get_data(
        as_text=True
    )

    # Every action done; a high-risk case waits for the director's approval.
    for action in case.actions:
        if not action.is_done and action.kind != ActionKind.referral:
            counselor.post(
                f"/staff/cases/{opaque(case.id)}/actions/{opaque(action.id)}/done",
                data={"note": "Өтті."},
            )
    db.session.refresh(case)
    response = counselor.post(
        f"/staff/cases/{opaque(case.id)}/close",
        data={
            "outcome": "resolved",
            "closing_note": "Қайталанбады, бала өзін қауіпсіз сезінеді.",
            "version": case.version,
        },
    )
    assert response.status_code == 302
    db.session.refresh(case)
    assert case.state == CaseState.monitoring
    assert case.pending_closure is not None
    assert "An adult is looking into it" in student_page(app, code)

    login(staff.admin, using=director)
    approvals = director.get("/staff/approvals").get_data(as_text=True)
    assert case.label in approvals and "Қайталанбады" in approvals
    director.post(
        f"/staff/approvals/{opaque(case.pending_closure.id)}",
        data={"decision": "approve", "note": ""},
    )
    db.session.refresh(case)
    assert case.state == CaseState.closed and case.outcome == Outcome.resolved
    closing = case.transitions[-1]
    assert closing.to_state == CaseState.closed
    assert closing.by_id == staff.counselor.id and closing.approved_by_id == staff.admin.id

    # The student sees the closure; the whole path is in an intact audit chain.
    assert "Closed" in student_page(app, code)
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {
        "case.open",
        "case.view",
        "case.triage",
        "case.transition",
        "message.send",
        "message.read",
        "referral.letter_pdf",
        "referral.send",
        "referral.acknowledge",
        "referral.outcome",
        "case.closure_request",
        "case.closure_decision",
    } <= actions
    assert verify_chain()[1] is None
    states = [t.to_state for t in case.transitions]
    assert states == [
        CaseState.new,
        CaseState.triaged,
        CaseState.in_progress,
        CaseState.referred,
        CaseState.monitoring,
        CaseState.closed,
    ]
    assert all(t.by_id and t.at for t in case.transitions)


# --- the machine ------------------------------------------------------------------------------

SIMPLE = [CaseState.in_progress, CaseState.referred, CaseState.monitoring]


@pytest.mark.parametrize("state", list(CaseState))
@pytest.mark.parametrize("target", SIMPLE)
def test_only_the_steps_of_the_machine_are_allowed(app, state, target):
    staff = staffed_school()
    case = triaged_case(staff)
    case_steps.plan_action(
        case, by=staff.counselor, kind=ActionKind.talk_victim, due_on=utcnow().date(), now=utcnow()
    )
    # A sent referral, so that only the machine itself can refuse.
    referral = referrals.new_referral(
        case, by=staff.counselor, kind=BodyKind.police, body=staff.police, now=utcnow()
    )
    state_machine.send_referral(referral, by=staff.counselor, reference_number="1", now=utcnow())
    case.state = state
    if state == CaseState.closed:
        case.outcome = Outcome.resolved
    db.session.commit()
    allowed = target in state_machine.TRANSITIONS[state] and state != CaseState.closed
    if allowed:
        state_machine.move(case, target, by=staff.counselor, now=utcnow())
        assert case.state == target
    else:
        with pytest.raises(WorkflowError):
            state_machine.move(case, target, by=staff.counselor, now=utcnow())
        db.session.rollback()
        assert case.state == state


def test_triage_needs_a_counselor_of_the_same_school(app):
    staff = staffed_school()
    case = new_case(staff)
    stranger = factories.user(Role.counselor)
    with pytest.raises(WorkflowError):
        state_machine.triage(
            case,
            by=staff.counselor,
            screening=Screening.bullying,
            risk=RiskLevel.low,
            counselor=stranger,
            injury=False,
            now=utcnow(),
        )
    db.session.rollback()
    assert case.state == CaseState.new


def test_triage_form_without_a_screening_result_changes_nothing(client, login):
    staff = staffed_school()
    case = new_case(staff)
    login(staff.counselor)
    response = client.post(
        f"/staff/cases/{opaque(case.id)}/triage",
        data={"risk": "low", "counselor_id": staff.counselor.id, "version": case.version},
    )
    assert response.status_code == 400
    assert "Please choose one." in response.get_data(as_text=True)
    db.session.refresh(case)
    assert case.state == CaseState.new and case.risk is None


def test_work_starts_only_with_an_action_planned(app):
    staff = staffed_school()
    case = triaged_case(staff)
    with pytest.raises(WorkflowError, match="at least one action"):
        state_machine.move(case, CaseState.in_progress, by=staff.counselor, now=utcnow())


def test_referred_needs_a_referral_that_was_sent(app):
    staff = staffed_school()
    case = case_in_progress(staff)
    referrals.new_referral(
        case, by=staff.counselor, kind=BodyKind.health, body=staff.health, now=utcnow()
    )
    with pytest.raises(WorkflowError, match="Send a referral"):
        state_machine.move(case, CaseState.referred, by=staff.counselor, now=utcnow())


def test_monitoring_needs_every_required_referral_sent(app):
    staff = staffed_school()
    case = case_in_progress(staff, forms=[ViolenceForm.sexual])
    with pytest.raises(WorkflowError, match="required referrals"):
        state_machine.move(case, CaseState.monitoring, by=staff.counselor, now=utcnow())


def test_closing_needs_an_outcome_and_a_closing_note(client, login):
    staff = staffed_school()
    case = case_in_progress(staff, risk=RiskLevel.low)
    login(staff.counselor)
    response = client.post(
        f"/staff/cases/{opaque(case.id)}/close",
        data={"outcome": "resolved", "closing_note": "   ", "version": case.version},
    )
    assert response.status_code == 400
    response = client.post(
        f"/staff/cases/{opaque(case.id)}/close",
        data={"closing_note": "Typed note kept", "version": case.version},
    )
    assert response.status_code == 400 and "Typed note kept" in response.get_data(as_text=True)
    db.session.refresh(case)
    assert case.state == CaseState.in_progress and case.outcome is None
    with pytest.raises(WorkflowError):
        state_machine.close(case, by=staff.counselor, outcome=None, note="x", now=utcnow())


def test_a_case_cannot_close_with_a_mandatory_referral_not_sent(app):
    staff = staffed_school()
    case = case_in_progress(staff, risk=RiskLevel.low, perpetrator=Perpetrator.family)
    assert {r.body_kind for r in referrals.unsent_required(case)} == {
        BodyKind.guardianship,
        BodyKind.police,
    }
    with pytest.raises(WorkflowError, match="has not been sent"):
        state_machine.close(
            case, by=staff.counselor, outcome=Outcome.unfounded, note="No.", now=utcnow()
        )


def test_a_case_cannot_close_with_a_required_action_undone(app):
    staff = staffed_school()
    case = case_in_progress(staff, screening=Screening.staff_violence, risk=RiskLevel.low)
    director_action = next(a for a in case.actions if a.kind == ActionKind.inform_director)
    assert director_action.required
    for referral in case.referrals:
        state_machine.send_referral(
            referral, by=staff.counselor, reference_number="7", now=utcnow()
        )
    with pytest.raises(WorkflowError, match="Inform the school director"):
        state_machine.close(
            case, by=staff.counselor, outcome=Outcome.resolved, note="ok", now=utcnow()
        )
    case_steps.complete_action(director_action, by=staff.counselor, now=utcnow())
    state_machine.close(case, by=staff.counselor, outcome=Outcome.resolved, note="ok", now=utcnow())
    assert case.state == CaseState.closed


def test_a_low_risk_case_closes_at_once(app):
    staff = staffed_school()
    case = case_in_progress(staff, risk=RiskLevel.low)
    transition = state_machine.close(
        case, by=staff.counselor, outcome=Outcome.resolved, note="Resolved.", now=utcnow()
    )
    db.session.commit()
    assert isinstance(transition, CaseTransition) and transition.approved_by_id is None
    assert case.state == CaseState.closed and case.closed_at is not None


@pytest.mark.parametrize("risk", [RiskLevel.high, RiskLevel.critical])
def test_closing_a_serious_case_needs_the_school_admins_approval(client, login, risk):
    staff = staffed_school()
    case = case_in_progress(staff, risk=risk)
    request = state_machine.close(
        case, by=staff.counselor, outcome=Outcome.resolved, note="Safe now.", now=utcnow()
    )
    db.session.commit()
    assert case.state == CaseState.in_progress
    assert request.decision == ClosureDecision.pending
    # A second request while one waits is refused.
    with pytest.raises(WorkflowError, match="already waiting"):
        state_machine.close(
            case, by=staff.counselor, outcome=Outcome.resolved, note="x", now=utcnow()
        )
    db.session.rollback()
    # The counselor cannot approve their own closure, nor can another school's administrator.
    login(staff.counselor)
    assert (
        client.post(
            f"/staff/approvals/{opaque(request.id)}", data={"decision": "approve"}
        ).status_code
        == 403
    )
    other_admin = factories.user(Role.school_admin)
    with pytest.raises(WorkflowError):
        state_machine.decide_closure(request, by=other_admin, approve=True, note="", now=utcnow())
    db.session.rollback()
    db.session.refresh(case)
    assert case.state == CaseState.in_progress


def test_declining_a_closure_needs_a_reason_and_keeps_the_case_open(client, login):
    staff = staffed_school()
    case = case_in_progress(staff, risk=RiskLevel.high)
    request = state_machine.close(
        case, by=staff.counselor, outcome=Outcome.resolved, note="Safe now.", now=utcnow()
    )
    db.session.commit()
    login(staff.admin)
    client.post(f"/staff/approvals/{opaque(request.id)}", data={"decision": "decline", "note": ""})
    db.session.refresh(request)
    assert request.decision == ClosureDecision.pending
    client.post(
        f"/staff/approvals/{opaque(request.id)}",
        data={"decision": "decline", "note": "Do the follow-up talk first."},
    )
    db.session.refresh(request)
    db.session.refresh(case)
    assert request.decision == ClosureDecision.declined
    assert case.state == CaseState.in_progress and case.pending_closure is None
    page = client.get(f"/staff/cases/{opaque(case.id)}").get_data(as_text=True)
    assert "Do the follow-up talk first." in page


def test_reopening_needs_a_reason_and_returns_the_case_to_work(app):
    staff = staffed_school()
    case = case_in_progress(staff, risk=RiskLevel.low)
    state_machine.close(case, by=staff.counselor, outcome=Outcome.resolved, note="ok", now=utcnow())
    db.session.commit()
    with pytest.raises(WorkflowError):
        state_machine.reopen(case, by=staff.counselor, reason=" ", now=utcnow())
    db.session.rollback()
    state_machine.reopen(case, by=staff.counselor, reason="It happened again.", now=utcnow())
    db.session.commit()
    assert case.state == CaseState.in_progress and case.outcome is None
    assert case.transitions[-1].note == "It happened again."


def test_a_closed_case_takes_no_new_actions(app):
    staff = staffed_school()
    case = case_in_progress(staff, risk=RiskLevel.low)
    state_machine.close(
        case, by=staff.counselor, outcome=Outcome.duplicate, note="dup", now=utcnow()
    )
    db.session.commit()
    with pytest.raises(WorkflowError, match="closed"):
        case_steps.plan_action(
            case, by=staff.counselor, kind=ActionKind.other, due_on=utcnow().date(), now=utcnow()
        )


def test_the_database_refuses_a_closed_case_without_an_outcome(app):
    staff = staffed_school()
    case = case_in_progress(staff)
    case.state = CaseState.closed
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_a_finished_safety_plan_schedules_the_follow_up_two_weeks_later(app):
    staff = staffed_school()
    case = case_in_progress(staff)
    now = utcnow()
    plan = case_steps.plan_action(
        case, by=staff.counselor, kind=ActionKind.safety_plan, due_on=now.date(), now=now
    )
    case_steps.complete_action(plan, by=staff.counselor, now=now)
    db.session.commit()
    follow_ups = [a for a in case.actions if a.kind == ActionKind.follow_up]
    assert len(follow_ups) == 1
    assert (follow_ups[0].due_on - now.date()).days in (13, 14, 15)


# --- priority ---------------------------------------------------------------------------------


def test_the_counselor_raises_the_priority_with_a_reason(client, login):
    staff = staffed_school()
    case = new_case(staff, forms=[ViolenceForm.verbal])
    assert case.priority == Priority.low
    login(staff.counselor)
    response = client.post(
        f"/staff/cases/{opaque(case.id)}/priority",
        data={"priority": "high", "reason": "", "version": case.version},
    )
    assert response.status_code == 400
    db.session.refresh(case.report)
    assert case.priority == Priority.low
    response = client.post(
        f"/staff/cases/{opaque(case.id)}/priority",
        data={"priority": "high", "reason": "Threats in the class chat", "version": case.version},
    )
    assert response.status_code == 302
    db.session.refresh(case.report)
    assert case.priority == Priority.high
    [change] = case_steps.priority_history(case)
    assert (change.from_priority, change.to_priority) == (Priority.low, Priority.high)
    assert change.reason == "Threats in the class chat" and change.by_id == staff.counselor.id
    assert "Threats in the class chat" in client.get(f"/staff/cases/{opaque(case.id)}").get_data(
        as_text=True
    )


def test_a_danger_now_report_stays_critical(app):
    staff = staffed_school()
    case = new_case(staff, is_danger_now=True, place=None, frequency=None, happened=None)
    assert case.priority == Priority.critical
    with pytest.raises(WorkflowError, match="stays critical"):
        case_steps.change_priority(
            case, by=staff.counselor, priority=Priority.normal, reason="calm", now=utcnow()
        )


# --- concurrent edits -------------------------------------------------------------------------


def test_a_stale_save_is_refused_and_the_other_change_is_kept(app, login):
    staff = staffed_school()
    second = factories.user(Role.counselor, staff.school, full_name="Second", locale="en")
    case = triaged_case(staff)
    one, two = app.test_client(), app.test_client()
    login(staff.counselor, using=one)
    login(second, using=two)
    version = case.version
    form = {
        "screening": "bullying",
        "risk": "medium",
        "counselor_id": staff.counselor.id,
        "version": version,
    }
    assert (
        one.post(
            f"/staff/cases/{opaque(case.id)}/details",
            data={**form, "narrative": "First version of events"},
        ).status_code
        == 302
    )
    response = two.post(
        f"/staff/cases/{opaque(case.id)}/details", data={**form, "narrative": "Second, stale text"}
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Someone else changed this case" in page
    assert "Second, stale text" in page  # what they typed is still in the form
    db.session.refresh(case)
    assert case.narrative == "First version of events"
    # The page now carries the current version: saving again is a deliberate choice.
    assert f'value="{case.version}"' in page


def test_two_sessions_saving_at_once_cannot_both_win(app):
    from sqlalchemy.orm import Session
    from sqlalchemy.orm.exc import StaleDataError

    staff = staffed_school()
    case = triaged_case(staff)
    with Session(db.engine) as first, Session(db.engine) as second:
        mine = first.get(Case, case.id)
        theirs = second.get(Case, case.id)
        mine.narrative = "mine"
        first.commit()
        theirs.narrative = "theirs"
        with pytest.raises(StaleDataError):
            second.commit()
        second.rollback()
    db.session.refresh(case)
    assert case.narrative == "mine"


def test_opening_a_case_twice_gives_the_same_case(client, login):
    staff = staffed_school()
    case = new_case(staff)
    login(staff.counselor)
    response = client.post(f"/staff/reports/{opaque(case.report_id)}/open")
    assert response.headers["Location"].endswith(f"/staff/cases/{opaque(case.id)}")
    assert db.session.scalar(select(db.func.count(Case.id))) == 1


def test_a_class_intervention_links_a_lesson_of_the_childs_grade_band(client, login):
    from tests.curriculum.factories import lesson, load_real_content

    load_real_content()
    staff = staffed_school()
    case = case_in_progress(staff, grade_band="5-9")
    chosen = lesson("5-9", 1)
    login(staff.counselor)
    page = client.get(f"/staff/cases/{opaque(case.id)}").get_data(as_text=True)
    assert f'value="{chosen.slug}"' in page
    assert f'value="{lesson("1-4", 1).slug}"' not in page  # another band is not offered
    response = client.post(
        f"/staff/cases/{opaque(case.id)}/actions",
        data={
            "kind": "class_intervention",
            "lesson_slug": chosen.slug,
            "due_on": utcnow().date().isoformat(),
        },
    )
    assert response.status_code == 302
    page = client.get(f"/staff/cases/{opaque(case.id)}").get_data(as_text=True)
    assert f'href="/lessons/{chosen.slug}"' in page
    response = client.post(
        f"/staff/cases/{opaque(case.id)}/actions",
        data={
            "kind": "class_intervention",
            "lesson_slug": "no-such-lesson",
            "due_on": "2026-12-01",
        },
    )
    assert response.status_code == 400
