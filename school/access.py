"""What a user may see: the one helper every list and detail query goes through.

Rows belong to a school (directly or through a parent); a role sees the rows of its scope:
admin — every school; school roles — their own school; analyst — their region or, with no
region, the country; partner — no school rows (they see only referrals addressed to them).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import ColumnElement, Select, and_, false, or_, select, true

from extensions import db
from school.models import SCHOOL_ROLES, Classroom, Role, School, User, class_teachers

T = TypeVar("T")


def school_scope(user: User, school_id: Any) -> ColumnElement[bool]:
    """SQL condition: the rows whose ``school_id`` column lies in the user's scope."""
    if user.role == Role.admin:
        return true()
    if user.role in SCHOOL_ROLES:
        return school_id == user.school_id
    if user.role == Role.analyst:
        if user.region_id is None:
            return true()
        return school_id.in_(select(School.id).where(School.region_id == user.region_id))
    return false()


def region_scope(user: User, region_id: Any) -> ColumnElement[bool]:
    """SQL condition for region-level rows (statistics by region, bodies)."""
    if user.role == Role.admin or (user.role == Role.analyst and user.region_id is None):
        return true()
    if user.role == Role.analyst:
        return region_id == user.region_id
    if user.role in SCHOOL_ROLES:
        return region_id == select(School.region_id).where(School.id == user.school_id)
    return false()


def reads_cases(user: User) -> bool:
    """Counselors once a second person has confirmed the account (see
    ``school.services.may_confirm``), and school administrators (who read no story)."""
    return user.role == Role.school_admin or (
        user.role == Role.counselor and not user.awaits_confirmation
    )


def case_scope(user: User, school_id: Any) -> ColumnElement[bool]:
    """Cases and the reports behind them: only the (confirmed) counselors and the school
    administrators of the school, and never what the duty desk holds alone. Analysts, teachers,
    partners, desk officers, platform administrators and counselors waiting for confirmation read
    no case here (a desk officer reads the desk's reports through ``desk_report_scope``)."""
    if reads_cases(user):
        return and_(school_id == user.school_id, school_holds(school_id))
    return false()


def school_holds(school_id: Any) -> ColumnElement[bool]:
    """SQL condition: the row of ``school_id``'s table is not part of a report the duty desk holds
    alone. Reports by their routing, cases by their report, and rows of a case (referrals,
    closure requests, actions...) by their case's report; other rows are the school's."""
    from incidents.cases.models import Case
    from incidents.intake.models import Holder, Report

    table = getattr(school_id, "table", None)
    if table is None:  # a plain value, not a column: no row to tell apart
        return true()
    if table is Report.__table__:
        return Report.routing != Holder.desk
    desk_report = select(Report.id).where(Report.routing == Holder.desk)
    if "report_id" in table.c:
        return or_(table.c.report_id.is_(None), table.c.report_id.not_in(desk_report))
    if "case_id" in table.c:
        desk_cases = select(Case.id).where(Case.report_id.in_(desk_report))
        return table.c.case_id.not_in(desk_cases)
    return true()


def desk_report_scope(user: User, routing: Any, school_id: Any) -> ColumnElement[bool]:
    """Reports for the duty desk: a desk officer reads those routed to the desk (alone or with
    the school) of the schools of their region, or of the whole country when they have none.
    Nobody else reads a report here."""
    from incidents.intake.models import Holder

    if user.role != Role.desk_officer:
        return false()
    held = routing.in_([Holder.desk, Holder.both])
    if user.region_id is None:
        return held
    return and_(held, school_id.in_(select(School.id).where(School.region_id == user.region_id)))


def reads_narrative(user: User) -> bool:
    """Only confirmed counselors read what happened (narratives, descriptions, messages, notes)."""
    return user.role == Role.counselor and reads_cases(user)


def refuse_unconfirmed_counselor():
    """``before_request`` of the case pages: a counselor waiting for confirmation is told why
    they see nothing (403); the scopes above return nothing to them anyway. (A platform
    administrator waiting for confirmation reads no case in any event.)"""
    if (
        current_user.is_authenticated
        and current_user.role == Role.counselor
        and current_user.awaits_confirmation
    ):
        from core.errors import render_error

        return render_error(
            403,
            _("Your account is waiting for confirmation"),
            _(
                "A new school psychologist reads the school's cases once another school"
                " psychologist of the school or a platform administrator has confirmed the"
                " account. They have been told by e-mail: ask one of them to confirm it."
            ),
        )
    return None


def referral_scope(user: User, school_id: Any, body_id: Any, status: Any) -> ColumnElement[bool]:
    """Referrals: a partner sees only those sent to their own body (never a draft); the school
    sees its own."""
    if user.role == Role.partner:
        return and_(body_id == user.body_id, status != "draft")
    return case_scope(user, school_id)


def teacher_report_scope(user: User, school_id: Any, author_id: Any) -> ColumnElement[bool]:
    """A teacher sees only their own named reports; counselors and admins those of the school."""
    if user.role == Role.teacher:
        return author_id == user.id
    return case_scope(user, school_id)


def audit_scope(user: User, school_id: Any) -> ColumnElement[bool]:
    """The audit log: a school administrator reads their school's entries, a platform
    administrator all of them; nobody else."""
    if user.role == Role.admin:
        return true()
    if user.role == Role.school_admin:
        return and_(school_id == user.school_id, _not_about_desk_reports(school_id.table))
    return false()


def _not_about_desk_reports(table) -> ColumnElement[bool]:
    """Audit entries whose object is a report the duty desk holds alone, or its case, are not
    the school's to read (the school learns of such a report only when the desk hands it over)."""
    from incidents.cases.models import Case
    from incidents.intake.models import Holder, Report

    desk_reports = select(Report.id).where(Report.routing == Holder.desk)
    desk_cases = select(Case.id).where(Case.report_id.in_(desk_reports))
    kind, ident = table.c.object_type, table.c.object_id
    return and_(
        or_(kind != "Report", ident.is_(None), ident.not_in(desk_reports)),
        or_(kind != "Case", ident.is_(None), ident.not_in(desk_cases)),
    )


def first_or_404(stmt: Select) -> Any:
    """The one row of a scoped query, or 404 (never a hint that it exists elsewhere)."""
    obj = db.session.scalar(stmt)
    if obj is None:
        abort(404)
    return obj


def visible_schools(user: User):
    return select(School).where(school_scope(user, School.id))


def get_scoped_or_404(model: type[T], ident: int, user: User, school_id: Any = None) -> T:
    """Load one row of ``model`` if it lies in the user's scope; otherwise 404 (never data)."""
    column = school_id if school_id is not None else model.school_id  # type: ignore[attr-defined]
    stmt = select(model).where(model.id == ident, school_scope(user, column))  # type: ignore[attr-defined]
    obj = db.session.scalar(stmt)
    if obj is None:
        abort(404)
    return obj


def teaches(user: User) -> ColumnElement[bool]:
    """SQL condition on ``Classroom``: the user is its homeroom teacher or one of its teachers."""
    return or_(
        Classroom.homeroom_teacher_id == user.id,
        Classroom.id.in_(
            select(class_teachers.c.classroom_id).where(class_teachers.c.user_id == user.id)
        ),
    )


def taught_classrooms(user: User):
    """The classes a user teaches, within their scope (a moved teacher keeps no old classes)."""
    return select(Classroom).where(school_scope(user, Classroom.school_id), teaches(user))


def get_taught_classroom_or_404(class_id: int, user: User) -> Classroom:
    """A class of the user's school that they teach; another school's class is 404, a class of
    their own school that they do not teach is 403."""
    classroom = get_scoped_or_404(Classroom, class_id, user)
    if (
        db.session.scalar(select(Classroom.id).where(Classroom.id == class_id, teaches(user)))
        is None
    ):
        abort(403)
    return classroom


def roles_required(*roles: Role) -> Callable:
    """Log in first, then the role must be one of ``roles`` (403 otherwise)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
