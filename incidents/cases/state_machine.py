"""The case state machine: the one place that moves a case from state to state.

One file though over 400 lines: it is the one place that moves a case, so every move and its
guards are read together and none is missed.

    new → triaged → in progress → referred → monitoring → closed (outcome), and reopen.

Guards (each refusal is a ``WorkflowError`` with a message for the person, and changes nothing):
- triage needs a screening result, a risk level and a counselor of the school;
- work starts (→ in progress) only with at least one action planned;
- → referred needs a referral that has been sent;
- → monitoring needs every required referral sent, and schedules the follow-up check;
- → closed needs an outcome and a closing note, no required referral unsent and no required
  action undone; a high or critical case waits for the school administrator's approval;
- reopen needs a reason.
Every transition is a ``CaseTransition`` row (who, when) and an audit entry.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core import audit
from extensions import db
from incidents.cases import duties
from incidents.cases.case_steps import (
    StaleCaseError,
    WorkflowError,
    check_version,
    ensure_follow_up,
    ensure_open,
    mark_first_response,
    touch,
)
from incidents.cases.enums import (
    ActionKind,
    CaseState,
    ClosureDecision,
    Outcome,
    RiskLevel,
    Screening,
)
from incidents.cases.models import (
    Case,
    CaseTransition,
    ClosureRequest,
    Referral,
    TeacherReport,
    new_case_label,
)
from incidents.intake.models import Report
from incidents.referrals import services as referrals
from school.models import Permission, User

__all__ = ["StaleCaseError", "WorkflowError"]

S = CaseState
TRANSITIONS: dict[CaseState, frozenset[CaseState]] = {
    S.new: frozenset({S.triaged}),
    S.triaged: frozenset({S.in_progress, S.referred, S.closed}),
    S.in_progress: frozenset({S.referred, S.monitoring, S.closed}),
    S.referred: frozenset({S.in_progress, S.monitoring, S.closed}),
    S.monitoring: frozenset({S.in_progress, S.closed}),
    S.closed: frozenset({S.in_progress}),  # reopen
}
# The buttons a counselor sees for the simple steps (closing and reopening have their forms).
SIMPLE_STEPS = (S.in_progress, S.referred, S.monitoring)


def can_move(case: Case, to: CaseState) -> bool:
    return to in TRANSITIONS[case.state]


def _require_move(case: Case, to: CaseState) -> None:
    if not can_move(case, to):
        raise WorkflowError(
            _l(
                "A case that is %(state)s cannot move to %(target)s.",
                state=case.state.title,
                target=to.title,
            )
        )


def _move(
    case: Case,
    to: CaseState,
    *,
    by: User | None,
    now: datetime,
    outcome: Outcome | None = None,
    note: str = "",
    approved_by: User | None = None,
) -> CaseTransition:
    transition = CaseTransition(
        case=case,
        from_state=case.state,
        to_state=to,
        outcome=outcome,
        note=note[:500],
        by_id=getattr(by, "id", None),
        approved_by_id=getattr(approved_by, "id", None),
        at=now,
    )
    db.session.add(transition)
    audit.record(
        "case.transition",
        case,
        actor=approved_by or by,
        from_state=case.state.value,
        to_state=to.value,
        outcome=outcome.value if outcome else None,
        approved=approved_by is not None,
    )
    case.state = to
    touch(case, now)
    return transition


def _is_counselor_of(user: User | None, case: Case) -> bool:
    return user is not None and user.can(Permission.work_cases) and user.school_id == case.school_id


def _desk_holds(user: User, source: Report | TeacherReport) -> bool:
    """A duty desk officer may open the case of a report the desk holds, in their scope."""
    from incidents.scopes import desk_report_scope

    if not isinstance(source, Report) or not user.can(Permission.work_desk):
        return False
    scope = desk_report_scope(user, Report.routing, Report.school_id)
    return db.session.scalar(select(Report.id).where(Report.id == source.id, scope)) is not None


# --- opening and triage -----------------------------------------------------------------------


def open_case(source: Report | TeacherReport, *, by: User, now: datetime) -> Case:
    """The case of a report (or of a teacher's report), created in state ``new`` once."""
    existing = source.case
    if existing is not None:
        return existing
    if not (_is_counselor_of(by, source) or _desk_holds(by, source)):
        raise WorkflowError(_l("Only a school psychologist of this school can open a case."))
    if isinstance(source, Report):
        label = source.label
    else:
        label = new_case_label()
        while db.session.scalar(select(Case.id).where(Case.label == label)):
            label = new_case_label()
    case = Case(
        school_id=source.school_id, label=label, state=S.new, created_at=now, updated_at=now
    )
    db.session.add(case)
    if isinstance(source, Report):
        case.report = source
    else:
        case.teacher_report = source
    db.session.add(CaseTransition(case=case, from_state=None, to_state=S.new, by_id=by.id, at=now))
    db.session.flush()
    audit.record(
        "case.open", case, actor=by, source="report" if case.report_id else "teacher_report"
    )
    return case


def triage(
    case: Case,
    *,
    by: User,
    screening: Screening,
    risk: RiskLevel,
    counselor: User,
    injury: bool,
    now: datetime,
    expected_version: int | None = None,
) -> list[object]:
    """Screen the case, set its risk and counselor; the rules add the required referrals."""
    check_version(case, expected_version)
    _require_move(case, S.triaged)
    if screening is None or risk is None:
        raise WorkflowError(_l("Triage needs a screening result and a risk level."))
    if not _is_counselor_of(counselor, case) or not counselor.active:
        raise WorkflowError(_l("Assign the case to a school psychologist of this school."))
    case.screening = screening
    case.risk = risk
    case.counselor_id = counselor.id
    case.counselor = counselor
    case.injury = injury
    case.triaged_at = now
    mark_first_response(case.source, now)
    _move(case, S.triaged, by=by, now=now)
    audit.record(
        "case.triage",
        case,
        actor=by,
        screening=screening.value,
        risk=risk.value,
        counselor_id=counselor.id,
        injury=injury,
    )
    duties.apply(case, by=by, now=now)
    return referrals.apply_rules(case, by=by, now=now)


def update_details(
    case: Case,
    *,
    by: User,
    now: datetime,
    expected_version: int | None,
    screening: Screening | None,
    risk: RiskLevel | None,
    counselor: User | None,
    injury: bool,
    narrative: str,
) -> list[str]:
    """Save the case record; returns the names of the fields that changed."""
    check_version(case, expected_version)
    ensure_open(case)
    if case.state != S.new and (screening is None or risk is None):
        raise WorkflowError(_l("A triaged case keeps a screening result and a risk level."))
    if counselor is not None and (not _is_counselor_of(counselor, case) or not counselor.active):
        raise WorkflowError(_l("Assign the case to a school psychologist of this school."))
    values = {
        "screening": screening,
        "risk": risk,
        "counselor_id": counselor.id if counselor else None,
        "injury": injury,
        "narrative": narrative.strip(),
    }
    changed = [name for name, value in values.items() if getattr(case, name) != value]
    if not changed:
        return []
    for name in changed:
        setattr(case, name, values[name])
    if "counselor_id" in changed:
        case.counselor = counselor
    touch(case, now)
    audit.record("case.update", case, actor=by, fields=changed)
    if case.state != S.new and {"screening", "injury"} & set(changed):
        referrals.apply_rules(case, by=by, now=now)
        duties.apply(case, by=by, now=now)
    return changed


# --- the simple steps -------------------------------------------------------------------------


def move(
    case: Case,
    to: CaseState,
    *,
    by: User,
    now: datetime,
    expected_version: int | None = None,
) -> CaseTransition:
    """→ in progress, → referred, → monitoring (closing and reopening have their own)."""
    check_version(case, expected_version)
    if to not in SIMPLE_STEPS or case.state == S.closed:
        raise WorkflowError(_l("Use the closing or reopening form for this step."))
    _require_move(case, to)
    if to == S.in_progress and case.state == S.triaged and not case.actions:
        raise WorkflowError(_l("Plan at least one action before starting the work."))
    if to == S.referred and not any(r.status.is_sent for r in case.referrals):
        raise WorkflowError(_l("Send a referral before marking the case as referred."))
    if to == S.monitoring:
        unsent = referrals.unsent_required(case)
        if unsent:
            raise WorkflowError(
                _l(
                    "Send the required referrals first: %(bodies)s.",
                    bodies=", ".join(str(r.body_kind.title) for r in unsent),
                )
            )
    transition = _move(case, to, by=by, now=now)
    if to == S.monitoring:
        ensure_follow_up(case, by=by, now=now)
    return transition


def send_referral(referral: Referral, *, by: User, reference_number: str, now: datetime) -> None:
    """Send a referral (``referrals.send``: its number, audit, answer time, duties) and move its
    case along with it: every page and command sends through here."""
    referrals.send(referral, by=by, reference_number=reference_number, now=now)
    follow_referral(referral.case, by=by, now=now)


def follow_referral(case: Case, *, by: User | None, now: datetime) -> CaseTransition | None:
    """A referral of a case still "triaged" was sent (or its body recorded an outcome): the case
    is now "referred", not left "triaged". ``by`` None: the platform moved it."""
    if case.state == S.triaged and any(r.status.is_sent for r in case.referrals):
        return _move(case, S.referred, by=by, now=now)
    return None


# --- closing, approval, reopening -------------------------------------------------------------

# What a high or critical case must have done before it closes, besides what the rules require:
# the follow-up with the child and the talk with the parents.
HIGH_RISK_CLOSING_ACTIONS = (ActionKind.follow_up, ActionKind.talk_parents)


def closure_blockers(case: Case) -> list[str]:
    """Why the case cannot close yet, in words for the person (empty when it can)."""
    reasons = []
    if case.risk is not None and case.risk.needs_closure_approval:
        for action in case.actions:
            if (
                action.kind in HIGH_RISK_CLOSING_ACTIONS
                and not action.is_done
                and not action.required  # listed below with the rules' duties
            ):
                reasons.append(
                    str(
                        _l(
                            "The planned action “%(action)s” (due %(date)s) is not done: a"
                            " high-risk case closes after it.",
                            action=action.kind.title,
                            date=format_date(action.due_on, "short") if action.due_on else "—",
                        )
                    )
                )
    for referral in referrals.unsent_required(case):
        reasons.append(
            str(
                _l(
                    "The required referral to %(body)s has not been sent.",
                    body=referral.body_kind.title,
                )
            )
        )
    for action in referrals.undone_required_actions(case):
        reasons.append(
            str(_l("The required action “%(action)s” is not done.", action=action.kind.title))
        )
    return reasons


def _check_closable(case: Case, outcome: Outcome | None, note: str) -> None:
    _require_move(case, S.closed)
    if outcome is None:
        raise WorkflowError(_l("Choose the outcome of the case."))
    if not note.strip():
        raise WorkflowError(_l("Write a closing note."))
    blockers = closure_blockers(case)
    if blockers:
        raise WorkflowError(" ".join(blockers))


def close(
    case: Case,
    *,
    by: User,
    outcome: Outcome | None,
    note: str,
    now: datetime,
    expected_version: int | None = None,
) -> ClosureRequest | CaseTransition:
    """Close the case, or, when its risk is high or critical, ask the school administrator."""
    check_version(case, expected_version)
    _check_closable(case, outcome, note)
    if case.pending_closure is not None:
        raise WorkflowError(_l("A closure of this case is already waiting for approval."))
    if case.risk is not None and case.risk.needs_closure_approval:
        request = ClosureRequest(
            case=case,
            school_id=case.school_id,
            outcome=outcome,
            note=note.strip(),
            requested_by_id=by.id,
            requested_at=now,
        )
        db.session.add(request)
        touch(case, now)
        db.session.flush()
        audit.record(
            "case.closure_request", case, actor=by, request_id=request.id, outcome=outcome.value
        )
        return request
    return _close(case, outcome=outcome, note=note, by=by, now=now)


def _close(
    case: Case,
    *,
    outcome: Outcome,
    note: str,
    by: User | None,
    now: datetime,
    approved_by: User | None = None,
) -> CaseTransition:
    case.outcome = outcome
    case.closing_note = note.strip()
    case.closed_at = now
    return _move(case, S.closed, by=by, now=now, outcome=outcome, approved_by=approved_by)


def decide_closure(
    request: ClosureRequest, *, by: User, approve: bool, note: str, now: datetime
) -> None:
    """The school administrator approves (the case closes) or declines (with a reason)."""
    case = request.case
    if not by.can(Permission.decide_closures) or by.school_id != case.school_id:
        raise WorkflowError(_l("Only the school administrator can decide on this closure."))
    if request.decision != ClosureDecision.pending:
        raise WorkflowError(_l("This closure has already been decided."))
    if approve:
        _check_closable(case, request.outcome, request.note)
    elif not note.strip():
        raise WorkflowError(_l("Say why the closure is declined."))
    request.decision = ClosureDecision.approved if approve else ClosureDecision.declined
    request.decided_by_id = by.id
    request.decided_at = now
    request.decision_note = note.strip()[:500]
    audit.record("case.closure_decision", case, actor=by, request_id=request.id, approved=approve)
    if approve:
        _close(
            case,
            outcome=request.outcome,
            note=request.note,
            by=request.requested_by,
            now=now,
            approved_by=by,
        )
    else:
        touch(case, now)


def reopen(
    case: Case, *, by: User, reason: str, now: datetime, expected_version: int | None = None
) -> CaseTransition:
    check_version(case, expected_version)
    if case.state != S.closed:
        raise WorkflowError(_l("Only a closed case can be reopened."))
    if not reason.strip():
        raise WorkflowError(_l("Say why the case is reopened."))
    transition = _move(case, S.in_progress, by=by, now=now, note=reason.strip())
    case.outcome = None
    case.closed_at = None
    return transition
