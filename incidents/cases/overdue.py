"""What is late: reports past their first-response target, required referrals past their
deadline, actions past their due date; and the once-only notice to the school administrator.

All in SQL, filtered by a scope condition from ``incidents.scopes`` (and, for the per-counselor list,
by the assigned counselor). ``now`` is a parameter everywhere.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, exists, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, selectinload

from core import audit
from extensions import db
from incidents.cases import duties
from incidents.cases.deadlines import (
    action_overdue,
    awaiting_response_overdue,
    duty_overdue,
    priority_rank,
    referral_overdue,
    referral_unanswered,
    response_deadline,
)
from incidents.cases.duty_models import CaseDuty
from incidents.cases.enums import ActionKind, CaseState
from incidents.cases.models import Action, Case, OverdueNotice, Referral, TeacherReport
from incidents.intake.models import Holder, Report
from school.models import Role, School, User

log = logging.getLogger(__name__)


@dataclass
class OverdueLists:
    reports: list[Report]
    teacher_reports: list[TeacherReport]
    referrals: list[Referral]
    actions: list[Action]
    # Referrals sent but not answered by the body in time; legal duties past their time.
    unanswered: list[Referral]
    duties: list[CaseDuty]

    @property
    def total(self) -> int:
        return sum(
            len(items)
            for items in (
                self.reports,
                self.teacher_reports,
                self.referrals,
                self.actions,
                self.unanswered,
                self.duties,
            )
        )


def _not_closed(case_state) -> ColumnElement[bool]:
    return or_(case_state.is_(None), case_state != CaseState.closed)


def overdue_reports(scope: ColumnElement[bool], now: datetime) -> list[Report]:
    stmt = (
        select(Report)
        .outerjoin(Case, Case.report_id == Report.id)
        .where(
            scope,
            _not_closed(Case.state),
            awaiting_response_overdue(
                Report.created_at, Report.priority, Report.first_response_at, now
            ),
        )
        .order_by(priority_rank(Report.priority), Report.created_at)
    )
    return list(db.session.scalars(stmt))


def overdue_teacher_reports(scope: ColumnElement[bool], now: datetime) -> list[TeacherReport]:
    stmt = (
        select(TeacherReport)
        .outerjoin(Case, Case.teacher_report_id == TeacherReport.id)
        .where(
            scope,
            _not_closed(Case.state),
            awaiting_response_overdue(
                TeacherReport.created_at,
                TeacherReport.priority,
                TeacherReport.first_response_at,
                now,
            ),
        )
        .order_by(priority_rank(TeacherReport.priority), TeacherReport.created_at)
    )
    return list(db.session.scalars(stmt))


def overdue_referrals(
    scope: ColumnElement[bool], now: datetime, counselor: User | None = None
) -> list[Referral]:
    stmt = (
        select(Referral)
        .join(Case, Case.id == Referral.case_id)
        .where(
            scope,
            Case.state != CaseState.closed,
            referral_overdue(Referral.required, Referral.status, Referral.deadline_at, now),
            _counselor_filter(counselor),
        )
        .order_by(Referral.deadline_at)
    )
    return list(db.session.scalars(stmt))


def overdue_actions(
    scope: ColumnElement[bool], now: datetime, counselor: User | None = None
) -> list[Action]:
    # Referral actions are listed as referrals, with their exact deadline.
    stmt = (
        select(Action)
        .join(Case, Case.id == Action.case_id)
        .where(
            scope,
            Case.state != CaseState.closed,
            Action.kind != ActionKind.referral,
            action_overdue(Action.due_on, Action.done_at, now),
            _counselor_filter(counselor),
        )
        .order_by(Action.due_on, Action.id)
    )
    return list(db.session.scalars(stmt))


def unanswered_referrals(
    scope: ColumnElement[bool],
    now: datetime,
    counselor: User | None = None,
    limit: int | None = None,
) -> list[Referral]:
    """Referrals the body has not answered in time: they return to the school (and the desk)."""
    stmt = (
        select(Referral)
        .join(Case, Case.id == Referral.case_id)
        .where(
            scope,
            Case.state != CaseState.closed,
            referral_unanswered(Referral.status, Referral.disposition, Referral.answer_due_at, now),
            _counselor_filter(counselor),
        )
        .order_by(Referral.answer_due_at, Referral.id)
        .limit(limit)
        # The lists show each one's case, school and body: loaded with the page, not per row.
        .options(
            contains_eager(Referral.case),
            selectinload(Referral.school),
            selectinload(Referral.body),
        )
    )
    return list(db.session.scalars(stmt))


def overdue_duties(
    scope: ColumnElement[bool], now: datetime, counselor: User | None = None
) -> list[CaseDuty]:
    stmt = (
        select(CaseDuty)
        .join(Case, Case.id == CaseDuty.case_id)
        .where(
            scope,
            Case.state != CaseState.closed,
            duty_overdue(CaseDuty.met_at, CaseDuty.due_at, now),
            _counselor_filter(counselor),
        )
        .order_by(CaseDuty.due_at, CaseDuty.id)
    )
    return list(db.session.scalars(stmt))


def _counselor_filter(counselor: User | None) -> ColumnElement[bool]:
    return true() if counselor is None else Case.counselor_id == counselor.id


def overdue_lists(scope_for, now: datetime, counselor: User | None = None) -> OverdueLists:
    """``scope_for(school_id_column)`` is the scope condition of the viewer.

    With a counselor, only their cases; untriaged reports belong to every counselor of the
    school, so they are listed either way.
    """
    return OverdueLists(
        reports=overdue_reports(scope_for(Report.school_id), now),
        teacher_reports=overdue_teacher_reports(scope_for(TeacherReport.school_id), now),
        referrals=overdue_referrals(scope_for(Referral.school_id), now, counselor),
        actions=overdue_actions(scope_for(Case.school_id), now, counselor),
        unanswered=unanswered_referrals(scope_for(Referral.school_id), now, counselor),
        duties=overdue_duties(scope_for(CaseDuty.school_id), now, counselor),
    )


# --- notices to the school administrator ------------------------------------------------------


def desk_officers_of_school(school_id: int) -> list[User]:
    """The active desk officers of the school's region (none when the region has no desk)."""
    region = select(School.region_id).where(School.id == school_id).scalar_subquery()
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.role == Role.desk_officer,
                User.active.is_(True),
                User.region_id == region,
            )
            .order_by(User.id)
        )
    )


def school_admins(school_id: int) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.school_id == school_id,
                User.role == Role.school_admin,
                User.active.is_(True),
            )
            .order_by(User.id)
        )
    )


def _not_notified(kind: str, object_id) -> ColumnElement[bool]:
    return ~exists().where(OverdueNotice.kind == kind, OverdueNotice.object_id == object_id)


def _desk_alone(case) -> bool:
    """The case is of a report the duty desk holds alone: the school is not told of it."""
    return case is not None and case.report is not None and case.report.routing == Holder.desk


def _items_to_notify(now: datetime):
    """Overdue items not notified yet, in SQL (the scheduler runs this every few minutes), each
    with whether the duty desk holds it alone (then only the desk is told)."""
    for report in overdue_reports(_not_notified("report", Report.id), now):
        desk_alone = report.routing == Holder.desk
        yield "report", report.id, report.school_id, report.label, report.priority, desk_alone
    for teacher_report in overdue_teacher_reports(
        _not_notified("teacher_report", TeacherReport.id), now
    ):
        label = teacher_report.case.label if teacher_report.case else f"#{teacher_report.id}"
        yield (
            "teacher_report",
            teacher_report.id,
            teacher_report.school_id,
            label,
            teacher_report.priority,
            False,
        )
    for referral in overdue_referrals(_not_notified("referral", Referral.id), now):
        case = referral.case
        yield "referral", referral.id, referral.school_id, case.label, None, _desk_alone(case)
    for referral in unanswered_referrals(_not_notified("unanswered", Referral.id), now):
        case = referral.case
        yield "unanswered", referral.id, referral.school_id, case.label, None, _desk_alone(case)
    for duty in overdue_duties(_not_notified("duty", CaseDuty.id), now):
        if not _told_as_referral(duty):
            yield "duty", duty.id, duty.school_id, duty.case.label, None, _desk_alone(duty.case)


def _told_as_referral(duty: CaseDuty) -> bool:
    """A duty met by a referral that the rules require too (notifying the guardianship body):
    the overdue referral's notice says it already; one mail for one late step."""
    rule = duties.rule_for(duty.kind)
    kind = rule.met_by_referral if rule else None
    return kind is not None and any(
        r.required and not r.status.is_sent and r.body_kind == kind for r in duty.case.referrals
    )


def _message(kind: str, label: str, priority, link: str) -> tuple[str, str]:
    if kind == "unanswered":
        subject = _("Qamqor: a referral has had no answer from the body")
        body = _(
            "The body has not answered a referral of case %(label)s in its time. Please call"
            " the body or send the referral again:\n%(link)s",
            label=label,
            link=link,
        )
    elif kind == "duty":
        subject = _("Qamqor: a legal duty of a case is overdue")
        body = _(
            "A duty of case %(label)s is past its time. Please meet it today and record how:"
            "\n%(link)s",
            label=label,
            link=link,
        )
    elif kind == "referral":
        subject = _("Qamqor: a required referral is overdue")
        body = _(
            "A referral that the rules require for case %(label)s has not been sent by its"
            " deadline. Please make sure it is sent today:\n%(link)s",
            label=label,
            link=link,
        )
    else:
        subject = _("Qamqor: a report is waiting past its response time")
        body = _(
            "Report %(label)s (priority: %(priority)s) has had no first response within its"
            " target time. Please make sure a school psychologist takes it up now:\n%(link)s",
            label=label,
            priority=priority.title,
            link=link,
        )
    return subject, body


def notify_overdue(now: datetime) -> int:
    """Tell the school administrators, once per item, what is overdue; returns the notices sent.

    Each notice is committed with its mails queued before they go out, so a second run (or two
    schedulers at once, thanks to the unique notice) never sends the same notice twice; a mail
    that fails stays in the outbox for a later try (``core.mail``). The mail says only the label
    and the priority: never what happened.
    """
    from core.mail import deliver, queue_for
    from core.public_url import external_url

    link = external_url("cases.overdue")
    desk_link = external_url("desk.inbox")
    sent = 0
    admins_of: dict[int, list[User]] = {}
    for kind, object_id, school_id, label, priority, desk_alone in list(_items_to_notify(now)):
        if school_id not in admins_of:
            admins_of[school_id] = school_admins(school_id)
        admins = admins_of[school_id]
        if desk_alone:
            # The desk holds it alone: telling the school (whose staff it may be about) would
            # name it there. Only the desk is told.
            admins = desk_officers_of_school(school_id)
        elif kind == "unanswered":
            # It returns to the desk too, when the school's region has one.
            admins = admins + desk_officers_of_school(school_id)
        db.session.add(OverdueNotice(school_id=school_id, kind=kind, object_id=object_id))
        # Queued with the notice's record: both are kept, or neither (another run took it).
        where = desk_link if desk_alone else link
        mails = queue_for(admins, partial(_message, kind, label, priority, where))
        audit.record(
            "overdue.notify",
            None,
            school_id=school_id,
            actor_kind="system",
            kind=kind,
            object_id=object_id,
            recipients=len(admins),
        )
        try:
            db.session.commit()
        except IntegrityError:
            # Another run took this one first.
            db.session.rollback()
            continue
        deliver(mails)
        sent += 1
    return sent


def response_deadline_of(item: Report | TeacherReport) -> datetime:
    return response_deadline(item.created_at, item.priority)
