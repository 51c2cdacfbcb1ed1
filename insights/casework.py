"""Figures from the response and prevention work: cases by outcome, referrals by body and on
time, lesson coverage. Counts only: no case, label, narrative or name leaves these queries."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, String, and_, func, select, type_coerce

from core.model_types import utcnow
from curriculum.services import coverage
from extensions import db
from incidents.cases.enums import Outcome
from incidents.cases.models import Case, Referral
from incidents.intake.models import ReportViolenceForm
from insights import rollup
from insights.figures import Count
from insights.filters import Filters, Level
from insights.sql import key_sum
from insights.stats import Public, Tally
from school.access import region_scope, school_scope
from school.models import BodyKind, Classroom, School, User

STILL_OPEN = _l("Still open")


def _place(column, filters: Filters) -> list[ColumnElement[bool]]:
    if filters.school_id is not None:
        return [column == filters.school_id]
    if filters.region_id is not None:
        return [column.in_(select(School.id).where(School.region_id == filters.region_id))]
    return []


def _period(column, filters: Filters) -> list[ColumnElement[bool]]:
    begin, finish = filters.utc_range()
    return [column >= begin, column < finish]


def _case_conditions(user: User, filters: Filters) -> list[ColumnElement[bool]]:
    conditions = [
        school_scope(user, Case.school_id),
        *_place(Case.school_id, filters),
        *_period(Case.created_at, filters),
    ]
    if filters.form is not None:
        conditions.append(_named_form(filters))
    return conditions


def _named_form(filters: Filters) -> ColumnElement[bool]:
    """Cases from a student's report that names the form of violence filtered on."""
    return Case.report_id.in_(
        select(ReportViolenceForm.report_id).where(ReportViolenceForm.form == filters.form)
    )


@dataclass
class CaseFigures:
    total: int = 0
    rows: list[Count] = field(default_factory=list)


def case_figures(user: User, filters: Filters, now: datetime | None = None) -> CaseFigures:
    """Cases opened in the period, by outcome (closed) or still open. As for reports, whole
    months come from the monthly totals (``insights.rollup``) when they are refreshed, and the
    rest is counted from the cases; a school's own page and a form filter count the cases."""
    counts: dict[str, int] = {}
    live = filters
    if filters.form is None and filters.level != Level.school:
        cut = rollup.split(filters.start, filters.end, now)
        if cut.months:
            counts = _rolled_up_cases(user, filters, cut.months)
            live = replace(filters, start=cut.live_start) if cut.live_start else None
    if live is not None:
        for outcome, n in _live_cases(user, live).items():
            counts[outcome] = counts.get(outcome, 0) + n
    rows = [Count(o.value, o.title, counts.get(o.value, 0)) for o in Outcome]
    rows.append(Count(rollup.OPEN, str(STILL_OPEN), counts.get(rollup.OPEN, 0)))
    return CaseFigures(sum(r.count for r in rows), rows)


def _live_cases(user: User, filters: Filters) -> dict[str, int]:
    key = rollup.outcome_key().label("key")
    return {
        outcome: Tally(n, case_ids)
        for outcome, n, case_ids in db.session.execute(
            select(key, func.count(), key_sum(Case.id))
            .select_from(Case)
            .where(*_case_conditions(user, filters))
            .group_by(key)
        )
    }


def _rolled_up_cases(user: User, filters: Filters, months: list[str]) -> dict[str, int]:
    if filters.level == Level.country:
        table = rollup.case_region_months
        return rollup.read_cases(table, [region_scope(user, table.c.region_id)], months)
    table = rollup.case_months
    conditions = [school_scope(user, table.c.school_id), table.c.region_id == filters.region_id]
    return rollup.read_cases(table, conditions, months)


@dataclass(frozen=True)
class ReferralFigure:
    key: str
    label: str
    referrals: int
    sent: int
    on_time: int  # sent by the deadline
    due: int  # with a deadline that has passed or was met (sent)


def referral_figures(
    user: User, filters: Filters, now: datetime | None = None
) -> list[ReferralFigure]:
    """Referrals made in the period, by kind of body; on time = sent by the deadline. As for
    reports and cases, whole months come from the monthly totals (``insights.rollup``) when
    they are refreshed, and the rest is counted from the referrals; a school's own page and a
    form filter count the referrals."""
    now = now or utcnow()
    counts: dict[str, dict[str, int]] = {}
    live = filters
    if filters.form is None and filters.level != Level.school:
        cut = rollup.split(filters.start, filters.end, now)
        if cut.months:
            counts = _rolled_up_referrals(user, filters, cut.months)
            live = replace(filters, start=cut.live_start) if cut.live_start else None
    if live is not None:
        for kind, measures in _live_referrals(user, live, now).items():
            mine = counts.setdefault(kind, {})
            for name, n in measures.items():
                mine[name] = mine.get(name, 0) + n
    figures = []
    for kind in BodyKind:
        row = counts.get(kind.value, {})
        figures.append(
            ReferralFigure(
                kind.value,
                kind.title,
                *(row.get(name, 0) for name in rollup.REFERRAL_COLUMNS),
            )
        )
    return figures


def _live_referrals(user: User, filters: Filters, now: datetime) -> dict[str, dict[str, Tally]]:
    kind = type_coerce(Referral.body_kind, String).label("kind")
    result = {}
    for row in db.session.execute(
        select(kind, *rollup.referral_measures(now))
        .where(
            school_scope(user, Referral.school_id),
            *_place(Referral.school_id, filters),
            *_period(Referral.created_at, filters),
            *(
                [Referral.case_id.in_(select(Case.id).where(_named_form(filters)))]
                if filters.form is not None
                else []
            ),
        )
        .group_by(Referral.body_kind)
    ):
        mapping = row._mapping
        result[row.kind] = {
            n: Tally(mapping[n], mapping[f"{n}_key"]) for n in rollup.REFERRAL_COLUMNS
        }
    return result


def _rolled_up_referrals(user: User, filters: Filters, months: list[str]):
    if filters.level == Level.country:
        table = rollup.referral_region_months
        return rollup.read_referrals(table, [region_scope(user, table.c.region_id)], months)
    table = rollup.referral_months
    conditions = [school_scope(user, table.c.school_id), table.c.region_id == filters.region_id]
    return rollup.read_referrals(table, conditions, months)


@dataclass(frozen=True)
class CoverageFigure:
    classes: int
    classes_started: int  # at least one lesson given
    lessons: int  # lessons of each class's band, summed over the classes
    delivered: int  # distinct band lessons given, summed over the classes

    @property
    def lesson_share(self) -> str | None:
        return f"{self.delivered / self.lessons:.4f}" if self.lessons else None


def coverage_figure(user: User, filters: Filters) -> CoverageFigure:
    """Programme coverage of the classes in view (all lessons given so far)."""
    where = and_(school_scope(user, Classroom.school_id), *_place(Classroom.school_id, filters))
    result = coverage(where)
    # Classes and lessons are the programme's, not a child's: shown as they are.
    return CoverageFigure(
        Public(result.classes),
        Public(result.classes_started),
        Public(result.lessons),
        Public(result.delivered),
    )
