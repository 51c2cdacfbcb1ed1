"""The inbox: reports and teachers' reports waiting for triage, most urgent first, with the time
left to their first-response target; the open cases with what is overdue; opening a case."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, literal, or_, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from core import audit
from core.paging import Page, paginate
from extensions import db
from incidents.cases import state_machine
from incidents.cases.deadlines import (
    action_overdue,
    duty_overdue,
    priority_rank,
    referral_overdue,
    referral_unanswered,
    response_deadline,
    time_left,
)
from incidents.cases.duty_models import CaseDuty
from incidents.cases.enums import CaseState
from incidents.cases.models import Action, Case, Referral, TeacherReport
from incidents.cases.view_helpers import case_url, now
from incidents.intake.models import Report
from incidents.scopes import case_scope
from school.access import first_or_404, permission_required
from school.models import Permission, User


@dataclass
class InboxItem:
    kind: str  # "report" or "teacher_report"
    source: Report | TeacherReport
    case: Case | None

    @property
    def deadline(self) -> datetime:
        return response_deadline(self.source.created_at, self.source.priority)

    @property
    def time_left(self):
        if self.source.first_response_at is not None:
            return None
        return time_left(self.deadline, now())


NEW_PAGE = 25  # new reports on one page of the inbox


def new_items(user: User, args, size: int = NEW_PAGE) -> Page:
    """Reports and teachers' reports not yet triaged, most urgent first (critical first, then
    the oldest, whose first-response time runs out first): the page that ``args["new_page"]``
    asks for. One statement counts them, one reads the page's ids across both kinds, and each
    kind on the page is loaded with its case and forms: the same statements for 0 or 10,000."""
    waiting = []
    for model, join_column, kind in (
        (Report, Case.report_id, "report"),
        (TeacherReport, Case.teacher_report_id, "teacher_report"),
    ):
        waiting.append(
            select(
                literal(kind).label("kind"),
                model.id.label("id"),
                priority_rank(model.priority).label("rank"),
                model.created_at.label("at"),
            )
            .outerjoin(Case, join_column == model.id)
            .where(
                case_scope(user, model.school_id),
                or_(Case.id.is_(None), Case.state == CaseState.new),
            )
        )
    both = union_all(*waiting).subquery()
    stmt = select(both.c.kind, both.c.id).order_by(both.c.rank, both.c.at, both.c.kind, both.c.id)
    page = paginate(stmt, args, size, rows=True, param="new_page")
    loaded: dict[tuple[str, int], InboxItem] = {}
    for model, join_column, kind in (
        (Report, Case.report_id, "report"),
        (TeacherReport, Case.teacher_report_id, "teacher_report"),
    ):
        ids = [item_id for item_kind, item_id in page.items if item_kind == kind]
        if not ids:
            continue
        rows = db.session.execute(
            select(model, Case)
            .outerjoin(Case, join_column == model.id)
            .where(model.id.in_(ids))
            .options(selectinload(model.forms))  # the forms column: one query, not one a row
        ).all()
        loaded.update(((kind, source.id), InboxItem(kind, source, case)) for source, case in rows)
    items = [loaded[key] for key in page.items if key in loaded]
    return Page(items, page.number, page.size, page.total, page.param)


def open_cases(user: User, mine: bool, args) -> Page:
    """Cases at work, with their counts of overdue actions, referrals and duties by law: the
    page of them that ``args`` asks for."""
    moment = now()
    late_actions = (
        select(func.count(Action.id))
        .where(Action.case_id == Case.id, action_overdue(Action.due_on, Action.done_at, moment))
        .correlate(Case)
        .scalar_subquery()
    )
    late_referrals = (
        select(func.count(Referral.id))
        .where(
            Referral.case_id == Case.id,
            # Not sent in time, or sent and not answered by the body in time.
            or_(
                referral_overdue(Referral.required, Referral.status, Referral.deadline_at, moment),
                referral_unanswered(
                    Referral.status, Referral.disposition, Referral.answer_due_at, moment
                ),
            ),
        )
        .correlate(Case)
        .scalar_subquery()
    )
    late_duties = (
        select(func.count(CaseDuty.id))
        .where(CaseDuty.case_id == Case.id, duty_overdue(CaseDuty.met_at, CaseDuty.due_at, moment))
        .correlate(Case)
        .scalar_subquery()
    )
    stmt = (
        select(Case, late_actions, late_referrals, late_duties)
        .where(
            case_scope(user, Case.school_id),
            Case.state.not_in([CaseState.new, CaseState.closed]),
        )
        .order_by(Case.updated_at.desc(), Case.id.desc())
        # What each row shows: a pending closure and the counselor, loaded once for the page.
        .options(selectinload(Case.closure_requests), selectinload(Case.counselor))
    )
    if mine:
        stmt = stmt.where(Case.counselor_id == user.id)
    return paginate(stmt, args, rows=True)


@permission_required(Permission.read_cases)
def inbox():
    mine = request.args.get("mine") == "1" and current_user.can(Permission.work_cases)
    return render_template(
        "incidents/cases/inbox.html",
        new=new_items(current_user, request.args),
        cases=open_cases(current_user, mine, request.args),
        mine=mine,
        reads_narrative=current_user.can(Permission.read_narrative),
    )


@permission_required(Permission.work_cases)
def open_report(report_id: int):
    report = first_or_404(
        select(Report).where(Report.id == report_id, case_scope(current_user, Report.school_id))
    )
    return _open(report)


@permission_required(Permission.work_cases)
def open_teacher_report(report_id: int):
    teacher_report = first_or_404(
        select(TeacherReport).where(
            TeacherReport.id == report_id, case_scope(current_user, TeacherReport.school_id)
        )
    )
    return _open(teacher_report)


@permission_required(Permission.work_cases)
def read_report(report_id: int):
    """A report read before any case is opened: read-only, in the audit log, of the
    counselor's school only (another school's report is a 404)."""
    report = first_or_404(
        select(Report).where(Report.id == report_id, case_scope(current_user, Report.school_id))
    )
    return _read(report, "report")


@permission_required(Permission.work_cases)
def read_teacher_report(report_id: int):
    teacher_report = first_or_404(
        select(TeacherReport).where(
            TeacherReport.id == report_id, case_scope(current_user, TeacherReport.school_id)
        )
    )
    return _read(teacher_report, "teacher_report")


def _read(source: Report | TeacherReport, kind: str):
    if not current_user.can(Permission.read_narrative):
        abort(403)
    audit.record("report.read", source, kind=kind)
    db.session.commit()
    return render_template(
        "incidents/cases/report_read.html",
        source=source,
        kind=kind,
        case=source.case,
        time_left=InboxItem(kind, source, source.case).time_left,
    )


def _open(source: Report | TeacherReport):
    try:
        case = state_machine.open_case(source, by=current_user, now=now())
        db.session.commit()
    except IntegrityError:
        # Another counselor opened it at the same moment: theirs is the case.
        db.session.rollback()
        case = source.case
    if case is None:
        abort(409)
    return redirect(case_url(case))


@permission_required(Permission.work_cases)
def new_reports():
    """The new reports are listed in the inbox (most urgent first); this address, from mails
    and bookmarks of earlier versions, leads there."""
    return redirect(url_for("cases.inbox", _anchor="new-reports"), 301)
