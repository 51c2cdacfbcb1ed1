"""Lesson coverage per class and the fidelity of the lessons given."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, case, func, select

from curriculum.services import progress_statement
from extensions import db
from insights.filters import Filters
from insights.kpis.places import in_place
from insights.stats import (
    Public,
)
from school.access import school_scope
from school.models import Classroom, User


@dataclass(frozen=True)
class ClassCoverage:
    classes: int
    not_started: int
    under_half: int
    half_or_more: int
    complete: int
    steps_done: int
    steps_total: int
    minutes_used: int
    minutes_designed: int


def class_coverage(user: User, filters: Filters) -> ClassCoverage:
    """The classes in view by the share of their band's lessons given so far, and fidelity."""
    where = and_(school_scope(user, Classroom.school_id), *in_place(Classroom.school_id, filters))
    per_class = progress_statement(where).subquery()
    c = per_class.c

    def number(condition, label):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0).label(label)

    row = db.session.execute(
        select(
            func.count().label("classes"),
            number(c.delivered == 0, "not_started"),
            number(and_(c.delivered > 0, c.delivered * 2 < c.lessons), "under_half"),
            number(and_(c.delivered * 2 >= c.lessons, c.delivered < c.lessons), "half"),
            number(and_(c.lessons > 0, c.delivered >= c.lessons), "complete"),
            *(
                func.coalesce(func.sum(c[name]), 0).label(name)
                for name in ("steps_done", "steps_total", "minutes_used", "minutes_designed")
            ),
        )
    ).one()
    # Classes and lessons are the programme's, not a child's: shown as they are.
    return ClassCoverage(
        *(
            Public(row._mapping[name])
            for name in (
                "classes",
                "not_started",
                "under_half",
                "half",
                "complete",
                "steps_done",
                "steps_total",
                "minutes_used",
                "minutes_designed",
            )
        )
    )
