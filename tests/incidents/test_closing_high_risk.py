"""A high-risk case does not close (nor is its closure approved) while its follow-up and the
talk with the parents are still planned, and the approver sees them; a case whose referral went
out is "referred", not left "triaged" (issue 20)."""

from __future__ import annotations

import pytest

from extensions import db
from incidents.cases import case_steps, state_machine
from incidents.cases.enums import (
    ActionKind,
    CaseState,
    ClosureDecision,
    Outcome,
    RiskLevel,
    Screening,
)
from incidents.intake.models import ViolenceForm
from incidents.referrals import answers
from school.models import BodyKind, Role, utcnow
from tests import factories
from tests.incidents.case_factories import (  # noqa: F401 - english_messages is a fixture
    english_messages,
    staffed_school,
    triaged_case,
)

pytestmark = pytest.mark.usefixtures("english")


def _high_risk_with_plans(staff):
    case = triaged_case(staff, risk=RiskLevel.high)
    for action in list(case.actions):
        case_steps.complete_action(action, by=staff.counselor, now=utcnow())
    for kind in (ActionKind.follow_up, ActionKind.talk_parents):
        case_steps.plan_action(
            case, by=staff.counselor, kind=kind, due_on=utcnow().date(), now=utcnow()
        )
    db.session.commit()
    return case


def test_closing_a_high_risk_case_is_refused_while_follow_up_and_parents_are_planned(app):
    staff = staffed_school()
    case = _high_risk_with_plans(staff)
    with pytest.raises(state_machine.WorkflowError) as refused:
        state_machine.close(
            case, by=staff.counselor, outcome=Outcome.resolved, note="done", now=utcnow()
        )
    assert "Follow-up check" in str(refused.value)
    assert "Talk with parents or guardians" in str(refused.value)
    db.session.rollback()
    assert case.pending_closure is None and case.state != CaseState.closed


def test_the_approval_is_refused_too_and_the_approver_sees_why(client, login):
    staff = staffed_school()
    case = _high_risk_with_plans(staff)
    # Asked while everything was done; then a new follow-up was planned.
    planned = [a for a in case.actions if not a.is_done]
    for action in planned:
        case_steps.complete_action(action, by=staff.counselor, now=utcnow())
    request = state_machine.close(
        case, by=staff.counselor, outcome=Outcome.resolved, note="done", now=utcnow()
    )
    case_steps.plan_action(
        case, by=staff.counselor, kind=ActionKind.follow_up, due_on=utcnow().date(), now=utcnow()
    )
    db.session.commit()

    login(staff.admin)
    page = client.get("/staff/approvals").get_data(as_text=True)
    assert "Follow-up check" in page and "is not done" in page
    with pytest.raises(state_machine.WorkflowError):
        state_machine.decide_closure(request, by=staff.admin, approve=True, note="", now=utcnow())
    db.session.rollback()
    assert request.decision == ClosureDecision.pending and case.state != CaseState.closed


def test_a_low_risk_case_closes_with_a_follow_up_still_planned(app):
    staff = staffed_school()
    case = triaged_case(staff, risk=RiskLevel.low)
    case_steps.plan_action(
        case, by=staff.counselor, kind=ActionKind.follow_up, due_on=utcnow().date(), now=utcnow()
    )
    state_machine.close(case, by=staff.counselor, outcome=Outcome.resolved, note="ok", now=utcnow())
    db.session.commit()
    assert case.state == CaseState.closed


def test_a_sent_referral_moves_a_triaged_case_to_referred_and_an_outcome_too(app):
    staff = staffed_school()
    case = triaged_case(staff, forms=[ViolenceForm.sexual], screening=Screening.peer_violence)
    assert case.state == CaseState.triaged
    police = next(r for r in case.referrals if r.body_kind == BodyKind.police)
    state_machine.send_referral(police, by=staff.counselor, reference_number="7", now=utcnow())
    db.session.commit()
    assert case.state == CaseState.referred
    partner = factories.user(Role.partner, body_=staff.police, locale="en")
    answers.acknowledge(police, by=partner, body_reference="1", now=utcnow())
    answers.record_outcome(police, by=partner, note="Opened", now=utcnow())
    db.session.commit()
    assert case.state == CaseState.referred
    assert [t.to_state for t in case.transitions][-1] == CaseState.referred
