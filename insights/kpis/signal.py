"""The under-reporting signal: victimization in the surveys against the reports per 100
students, worked out from published counts only."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import func, select

from extensions import db
from incidents.intake.models import Report
from insights.figures import report_conditions, unit_labels
from insights.filters import Filters, Level
from insights.models import SurveyTally, SurveyWave
from insights.results import wave_conditions
from insights.sql import key_sum
from insights.stats import (
    MIN_SURVEY_ANSWERS,
    ROUNDING_BASE,
    Public,
    Share,
    Tally,
    published_count,
    wilson,
)
from school.access import school_scope
from school.models import Classroom, User

# A school is flagged when the lower end of the 95% interval of victimization is at least this
# share, while even the most the published report count can stand for gives fewer than this
# many reports per 100 students.
FLAG_PREVALENCE = 0.10


FLAG_REPORTS_PER_100 = 1.0


@dataclass(frozen=True)
class SchoolSignal:
    key: str
    label: str
    answers: int  # answers to the victimization question in the latest waves
    victim: Share | None  # None under MIN_SURVEY_ANSWERS
    reports: int
    students: int
    flagged: bool


def most_reports(published: int) -> int:
    """The most reports a published count can stand for (``published_count``: n + 4)."""
    return published + ROUNDING_BASE - 1


def is_flagged(victim: Share | None, reports: int, students: int) -> bool:
    """Substantial victimization, almost no reports: from the published counts only."""
    if victim is None or victim.low < FLAG_PREVALENCE:
        return False
    listed = published_count(students)
    if not listed:
        return False
    return most_reports(published_count(reports)) * 100 < FLAG_REPORTS_PER_100 * listed


def under_reporting(user: User, filters: Filters) -> tuple[list[SchoolSignal], int]:
    """Schools with survey answers in the period: victimization in the latest wave of each class
    against reports per 100 students; returns the rows and the number of schools assessed."""
    waves = wave_conditions(
        user,
        school_id=filters.school_id,
        region_id=filters.region_id,
        start=filters.start,
        end=filters.end,
    )
    ranked = (
        select(
            SurveyWave.id.label("wave_id"),
            SurveyWave.school_id.label("school_id"),
            func.row_number()
            .over(
                partition_by=SurveyWave.classroom_id,
                order_by=(SurveyWave.opened_at.desc(), SurveyWave.id.desc()),
            )
            .label("rn"),
        )
        .where(*waves, SurveyWave.answered > 0)
        .subquery()
    )
    survey = {
        row.school_id: (int(row.n), int(row.k))
        for row in db.session.execute(
            select(
                ranked.c.school_id,
                func.sum(SurveyTally.answers).label("n"),
                func.sum(SurveyTally.positive).label("k"),
            )
            .join(SurveyTally, SurveyTally.wave_id == ranked.c.wave_id)
            .where(ranked.c.rn == 1, SurveyTally.item == "victim")
            .group_by(ranked.c.school_id)
        )
    }
    if not survey:
        return [], 0
    schools = list(survey)
    reports = {
        school_id: Tally(n, report_ids)
        for school_id, n, report_ids in db.session.execute(
            select(Report.school_id, func.count(), key_sum(Report.id))
            .where(*report_conditions(user, replace(filters, form=None)))
            .where(Report.school_id.in_(schools))
            .group_by(Report.school_id)
        )
    }
    students = {
        school_id: Public(n or 0)
        for school_id, n in db.session.execute(
            select(Classroom.school_id, func.sum(Classroom.students))
            .where(school_scope(user, Classroom.school_id), Classroom.school_id.in_(schools))
            .group_by(Classroom.school_id)
        )
    }
    labels = unit_labels(Level.region, schools)
    rows = []
    for school_id, (n, k) in survey.items():
        victim = wilson(k, n) if n >= MIN_SURVEY_ANSWERS else None
        reported, listed = reports.get(school_id, 0), students.get(school_id, 0)
        rows.append(
            SchoolSignal(
                str(school_id),
                str(labels.get(school_id, school_id)),
                Public(n),  # as every survey share, given with its number of answers
                victim,
                reported,
                listed,
                is_flagged(victim, reported, listed),
            )
        )
    rows.sort(key=lambda s: (not s.flagged, s.label))
    if filters.level == Level.country:
        # Across the country only the flagged schools are listed (the regions list theirs all).
        return [s for s in rows if s.flagged], len(rows)
    return rows, len(rows)
