"""What a user may see of reports, cases, referrals and the duty desk, built on the school's
scope (``school.access``) and the roles' permissions (``school.roles``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true

from incidents.cases.models import Case
from incidents.intake.models import Holder, Report
from school.models import Permission, School, User


def case_scope(user: User, school_id: Any) -> ColumnElement[bool]:
    """Cases and the reports behind them: only the (confirmed) counselors and the school
    administrators of the school, and never what the duty desk holds alone. Analysts, teachers,
    partners, desk officers, platform administrators and counselors waiting for confirmation read
    no case here (a desk officer reads the desk's reports through ``desk_report_scope``)."""
    if user.can(Permission.read_cases):
        return and_(school_id == user.school_id, school_holds(school_id))
    return false()


def school_holds(school_id: Any) -> ColumnElement[bool]:
    """SQL condition: the row of ``school_id``'s table is not part of a report the duty desk holds
    alone. Reports by their routing, cases by their report, and rows of a case (referrals,
    closure requests, actions...) by their case's report; other rows are the school's."""
    table = getattr(school_id, "table", None)
    if table is None:  # a plain value, not a column: no row to tell apart
        return true()
    if table is Report.__table__:
        return Report.routing != Holder.desk
    # Asked of each row's own report (an index lookup), not as a list of every report the desk
    # holds, which grows with the country's reports (bench/desk.py).
    held = Report.routing == Holder.desk
    if "report_id" in table.c:
        return ~exists().where(Report.id == table.c.report_id, held)
    if "case_id" in table.c:
        return ~exists().where(Case.id == table.c.case_id, Report.id == Case.report_id, held)
    return true()


def desk_report_scope(user: User, routing: Any, school_id: Any) -> ColumnElement[bool]:
    """Reports for the duty desk: a desk officer reads those routed to the desk (alone or with
    the school) of the schools of their region, or of the whole country when they have none.
    Nobody else reads a report here."""
    if not user.can(Permission.work_desk):
        return false()
    held = routing.in_([Holder.desk, Holder.both])
    if user.region_id is None:
        return held
    return and_(held, school_id.in_(select(School.id).where(School.region_id == user.region_id)))


def referral_scope(user: User, school_id: Any, body_id: Any, status: Any) -> ColumnElement[bool]:
    """Referrals: a partner sees only those sent to their own body (never a draft); the school
    sees its own."""
    if user.can(Permission.answer_referrals):
        return and_(body_id == user.body_id, status != "draft")
    return case_scope(user, school_id)


def teacher_report_scope(user: User, school_id: Any, author_id: Any) -> ColumnElement[bool]:
    """A teacher sees only their own named reports; counselors and admins those of the school."""
    if user.can(Permission.write_named_reports):
        return author_id == user.id
    return case_scope(user, school_id)


def not_about_desk_reports(table) -> ColumnElement[bool]:
    """Audit entries whose object is a report the duty desk holds alone, or its case, are not
    the school's to read (the school learns of such a report only when the desk hands it over).
    Added to ``school.access.audit_scope`` by ``incidents.init_app``."""
    desk_reports = select(Report.id).where(Report.routing == Holder.desk)
    desk_cases = select(Case.id).where(Case.report_id.in_(desk_reports))
    kind, ident = table.c.object_type, table.c.object_id
    return and_(
        or_(kind != "Report", ident.is_(None), ident.not_in(desk_reports)),
        or_(kind != "Case", ident.is_(None), ident.not_in(desk_cases)),
    )
