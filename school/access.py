"""What a user may see: the one helper every list and detail query goes through.

Rows belong to a school (directly or through a parent); a role sees the rows of its reach
(``school.roles.Reach``): admin — every school; school roles — their own school; analyst — their
region or, with no region, the country; partner and desk officer — no school rows (they see only
the referrals addressed to them, the reports routed to their desk: ``incidents.scopes``).
What a role may do is ``school.roles``; the scopes of reports and cases are ``incidents.scopes``,
built on ``school_scope`` (this package knows nothing of what stands on it).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort, current_app
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import ColumnElement, Select, and_, false, or_, select, true

from extensions import db
from school.models import Classroom, School, User, class_teachers
from school.roles import Permission, Reach, role_may

T = TypeVar("T")

AUDIT_CONDITIONS = "qamqor.school_audit_conditions"


def school_scope(user: User, school_id: Any) -> ColumnElement[bool]:
    """SQL condition: the rows whose ``school_id`` column lies in the user's scope."""
    reach = user.role.reach
    if reach is Reach.platform:
        return true()
    if reach is Reach.school:
        return school_id == user.school_id
    if reach is Reach.region:
        if user.region_id is None:
            return true()
        return school_id.in_(select(School.id).where(School.region_id == user.region_id))
    return false()


def region_scope(user: User, region_id: Any) -> ColumnElement[bool]:
    """SQL condition for region-level rows (statistics by region, bodies)."""
    if user.sees_whole_country:
        return true()
    reach = user.role.reach
    if reach is Reach.region:
        return region_id == user.region_id
    if reach is Reach.school:
        return region_id == select(School.region_id).where(School.id == user.school_id)
    return false()


def refuse_unconfirmed_counselor():
    """``before_request`` of the case pages: a counselor waiting for confirmation is told why
    they see nothing (403); the scopes return nothing to them anyway. (A platform
    administrator waiting for confirmation reads no case in any event.)"""
    if (
        current_user.is_authenticated
        and current_user.awaits_confirmation
        and role_may(current_user.role, Permission.read_cases)
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


def add_audit_condition(app: Flask, condition: Callable[[Any], ColumnElement[bool]]) -> None:
    """A package that stands on this one hides some of a school's audit entries from it:
    ``condition(audit_table)`` is added to ``audit_scope`` for a school's administrator."""
    app.extensions.setdefault(AUDIT_CONDITIONS, []).append(condition)


def audit_scope(user: User, school_id: Any) -> ColumnElement[bool]:
    """The audit log: a school administrator reads their school's entries (without those the
    packages above hide: ``add_audit_condition``), a platform administrator all of them; nobody
    else."""
    if not user.can(Permission.read_audit_log):
        return false()
    if user.role.reach is Reach.platform:
        return true()
    conditions = current_app.extensions.get(AUDIT_CONDITIONS, [])
    return and_(school_id == user.school_id, *(c(school_id.table) for c in conditions))


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


def permission_required(permission: Permission) -> Callable:
    """Log in first, then the user must have ``permission`` (403 otherwise)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.can(permission):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
