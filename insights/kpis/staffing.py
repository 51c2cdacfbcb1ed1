"""Caseload: students and open cases per school psychologist, against the staffing norm."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import case, func, select

from extensions import db
from incidents.cases.enums import CaseState
from incidents.cases.models import Case
from insights.figures import unit_labels
from insights.filters import Filters, Level
from insights.kpis.places import in_place
from insights.sql import key_sum
from insights.stats import (
    Public,
    Tally,
    shown_count,
)
from school.access import school_scope
from school.models import Classroom, Role, School, User

# One school psychologist per 500 students: the staffing norm.
NORM_STUDENTS_PER_COUNSELOR = 500


@dataclass(frozen=True)
class CaseloadRow:
    key: str
    label: str
    schools: int
    students: int  # on the class lists the schools entered
    unlisted_classes: int  # classes whose list size is not entered
    counselors: int
    open_cases: int
    below_norm: int  # schools with fewer psychologists than the norm asks


def per_counselor(part: int, row: CaseloadRow, suppress: bool) -> float | None:
    """``part`` (students, open cases) per psychologist. The psychologists are staff, not
    children: their number is shown exactly; ``part`` is published as every count."""
    shown = shown_count(part, suppress)
    if not row.counselors:
        return None
    return shown / row.counselors


def caseload(user: User, filters: Filters) -> tuple[list[CaseloadRow], CaseloadRow]:
    """Per region (country level) or per school, and for the whole place: students on the class
    lists, active psychologists, open cases, and schools below the norm."""
    # One grouped count per table, each within the user's scope and the place, joined to the
    # schools (a correlated count per school was read once per school: slow for a country).
    lists = (
        select(
            Classroom.school_id.label("school_id"),
            func.sum(Classroom.students).label("students"),
            func.sum(case((Classroom.students.is_(None), 1), else_=0)).label("unlisted"),
        )
        .where(school_scope(user, Classroom.school_id), *in_place(Classroom.school_id, filters))
        .group_by(Classroom.school_id)
        .subquery()
    )
    staff = (
        select(User.school_id.label("school_id"), func.count().label("counselors"))
        .where(
            User.role == Role.counselor,
            User.active.is_(True),
            school_scope(user, User.school_id),
            *in_place(User.school_id, filters),
        )
        .group_by(User.school_id)
        .subquery()
    )
    still_open = (
        select(
            Case.school_id.label("school_id"),
            func.count().label("open_cases"),
            key_sum(Case.id).label("open_cases_key"),
        )
        .where(
            Case.state != CaseState.closed,
            school_scope(user, Case.school_id),
            *in_place(Case.school_id, filters),
        )
        .group_by(Case.school_id)
        .subquery()
    )
    per_school = (
        select(
            School.id.label("school_id"),
            School.region_id.label("region_id"),
            func.coalesce(lists.c.students, 0).label("students"),
            func.coalesce(lists.c.unlisted, 0).label("unlisted"),
            func.coalesce(staff.c.counselors, 0).label("counselors"),
            func.coalesce(still_open.c.open_cases, 0).label("open_cases"),
            func.coalesce(still_open.c.open_cases_key, 0).label("open_cases_key"),
        )
        .outerjoin(lists, lists.c.school_id == School.id)
        .outerjoin(staff, staff.c.school_id == School.id)
        .outerjoin(still_open, still_open.c.school_id == School.id)
        .where(school_scope(user, School.id), *in_place(School.id, filters))
        .subquery()
    )
    c = per_school.c
    aggregates = [
        func.count().label("schools"),
        func.coalesce(func.sum(c.students), 0).label("students"),
        func.coalesce(func.sum(c.unlisted), 0).label("unlisted"),
        func.coalesce(func.sum(c.counselors), 0).label("counselors"),
        func.coalesce(func.sum(c.open_cases), 0).label("open_cases"),
        func.coalesce(func.sum(c.open_cases_key), 0).label("open_cases_key"),
        func.coalesce(
            func.sum(case((c.counselors * NORM_STUDENTS_PER_COUNSELOR < c.students, 1), else_=0)),
            0,
        ).label("below_norm"),
    ]

    def made(key, label, row) -> CaseloadRow:
        return CaseloadRow(
            str(key),
            str(label),
            # Schools, class lists and psychologists are the directory's, not a child's.
            Public(row.schools),
            Public(row.students),
            Public(row.unlisted),
            Public(row.counselors),
            Tally(row.open_cases, row.open_cases_key),
            Public(row.below_norm),
        )

    if filters.level == Level.school:
        return [], made("all", _("All schools"), db.session.execute(select(*aggregates)).one())
    unit = c.region_id if filters.level == Level.country else c.school_id
    grouped = db.session.execute(select(unit.label("unit"), *aggregates).group_by(unit)).all()
    labels = unit_labels(filters.level, [row.unit for row in grouped])
    rows = [made(row.unit, labels.get(row.unit, row.unit), row) for row in grouped]
    # The exact counts of the units added up (no statement of their own, as the dashboard's
    # survey answers); the total is then published from its own exact count.
    total = CaseloadRow(
        "all",
        _("All schools"),
        *(
            sum(getattr(r, name) for r in rows)
            for name in (
                "schools",
                "students",
                "unlisted_classes",
                "counselors",
                "open_cases",
                "below_norm",
            )
        ),
    )
    return sorted(rows, key=lambda r: r.label), total
