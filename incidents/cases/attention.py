"""What needs action first, for the staff home page: the critical ("danger now") reports still
waiting for triage, what is overdue, and the closures waiting for the director's approval.

One statement of scalar subqueries, scoped by ``incidents.scopes.case_scope``: the home page makes
the same number of statements however many reports and cases there are."""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from flask_babel import ngettext
from sqlalchemy import func, or_, select

from extensions import db
from incidents.cases.deadlines import (
    action_overdue,
    awaiting_response_overdue,
    duty_overdue,
    referral_overdue,
    referral_unanswered,
)
from incidents.cases.duty_models import CaseDuty
from incidents.cases.enums import ActionKind, CaseState, ClosureDecision
from incidents.cases.models import Action, Case, ClosureRequest, Referral, TeacherReport
from incidents.cases.view_helpers import now
from incidents.intake.models import Priority, Report
from incidents.scopes import case_scope
from school.models import Permission, User


@dataclass(frozen=True)
class Attention:
    """One line of the home page's "needs action" list."""

    key: str  # "critical", "overdue", "new", "approvals": also the line's CSS class
    count: int
    text: str
    url: str


def _untriaged(model, join_column, user: User, *conditions):
    return (
        select(func.count(model.id))
        .outerjoin(Case, join_column == model.id)
        .where(
            case_scope(user, model.school_id),
            or_(Case.id.is_(None), Case.state == CaseState.new),
            *conditions,
        )
        .scalar_subquery()
    )


def _overdue_reports(model, join_column, user: User, moment):
    return (
        select(func.count(model.id))
        .outerjoin(Case, join_column == model.id)
        .where(
            case_scope(user, model.school_id),
            or_(Case.state.is_(None), Case.state != CaseState.closed),
            awaiting_response_overdue(
                model.created_at, model.priority, model.first_response_at, moment
            ),
        )
        .scalar_subquery()
    )


def counts(user: User) -> dict[str, int]:
    """The counts behind the home page's list, in one statement."""
    moment = now()
    columns = {
        "critical_reports": _untriaged(
            Report, Case.report_id, user, Report.priority == Priority.critical
        ),
        "critical_teacher": _untriaged(
            TeacherReport,
            Case.teacher_report_id,
            user,
            TeacherReport.priority == Priority.critical,
        ),
        "new_reports": _untriaged(Report, Case.report_id, user),
        "new_teacher": _untriaged(TeacherReport, Case.teacher_report_id, user),
        "late_reports": _overdue_reports(Report, Case.report_id, user, moment),
        "late_teacher": _overdue_reports(TeacherReport, Case.teacher_report_id, user, moment),
        "late_referrals": select(func.count(Referral.id))
        .join(Case, Case.id == Referral.case_id)
        .where(
            case_scope(user, Referral.school_id),
            Case.state != CaseState.closed,
            referral_overdue(Referral.required, Referral.status, Referral.deadline_at, moment),
        )
        .scalar_subquery(),
        "late_actions": select(func.count(Action.id))
        .join(Case, Case.id == Action.case_id)
        .where(
            case_scope(user, Case.school_id),
            Case.state != CaseState.closed,
            Action.kind != ActionKind.referral,
            action_overdue(Action.due_on, Action.done_at, moment),
        )
        .scalar_subquery(),
        "unanswered": select(func.count(Referral.id))
        .join(Case, Case.id == Referral.case_id)
        .where(
            case_scope(user, Referral.school_id),
            Case.state != CaseState.closed,
            referral_unanswered(
                Referral.status, Referral.disposition, Referral.answer_due_at, moment
            ),
        )
        .scalar_subquery(),
        "late_duties": select(func.count(CaseDuty.id))
        .join(Case, Case.id == CaseDuty.case_id)
        .where(
            case_scope(user, CaseDuty.school_id),
            Case.state != CaseState.closed,
            duty_overdue(CaseDuty.met_at, CaseDuty.due_at, moment),
        )
        .scalar_subquery(),
        "approvals": select(func.count(ClosureRequest.id))
        .where(
            case_scope(user, ClosureRequest.school_id),
            ClosureRequest.decision == ClosureDecision.pending,
        )
        .scalar_subquery(),
    }
    row = db.session.execute(select(*(c.label(k) for k, c in columns.items()))).one()
    return {key: int(value or 0) for key, value in row._mapping.items()}


def needs_action(user: User) -> list[Attention]:
    """The lines of the home page's "needs action first" list, most urgent first; empty for
    anyone who reads no case."""
    if not user.can(Permission.read_cases):
        return []
    found = counts(user)
    critical = found["critical_reports"] + found["critical_teacher"]
    overdue = (
        found["late_reports"]
        + found["late_teacher"]
        + found["late_referrals"]
        + found["late_actions"]
        + found["unanswered"]
        + found["late_duties"]
    )
    waiting = found["new_reports"] + found["new_teacher"]
    lines = [
        Attention(
            "critical",
            critical,
            ngettext(
                "%(num)d critical report (danger now) is waiting for triage",
                "%(num)d critical reports (danger now) are waiting for triage",
                critical,
            ),
            url_for("cases.inbox", _anchor="new-reports"),
        ),
        Attention(
            "overdue",
            overdue,
            ngettext("%(num)d item is overdue", "%(num)d items are overdue", overdue),
            url_for("cases.overdue", who="school"),
        ),
    ]
    if user.can(Permission.decide_closures):
        lines.append(
            Attention(
                "approvals",
                found["approvals"],
                ngettext(
                    "%(num)d case closure is waiting for your approval",
                    "%(num)d case closures are waiting for your approval",
                    found["approvals"],
                ),
                url_for("cases.approvals"),
            )
        )
    lines.append(
        Attention(
            "new",
            waiting,
            ngettext(
                "%(num)d new report is waiting for triage",
                "%(num)d new reports are waiting for triage",
                waiting,
            ),
            url_for("cases.inbox", _anchor="new-reports"),
        )
    )
    return lines
