"""Programme KPIs and the under-reporting signal, for the analysts of a region and of
the country.

Every figure is counted by the database (GROUP BY, window functions, percentiles); Python only
merges the aggregated rows by key and turns counts into shares. Every statement starts from the
user's scope (``school_scope``); figures carry counts only, never a case, a label or a name.

- Time to first human response: the median and the 90th percentile of the hours from a report
  to its first response, by priority (``grouped_percentiles``: ``percentile_cont`` on
  PostgreSQL, the same interpolation with window functions on SQLite), and the share answered
  within the target of the priority (``insights.figures.timeliness_sets``).
- Caseload: students on the class lists (``Classroom.students``, entered by the school) per
  active school psychologist (counselor account), against the norm of one per
  ``NORM_STUDENTS_PER_COUNSELOR`` students; open cases per psychologist.
- Referrals answered by the bodies: acknowledged within ``REFERRAL_ANSWER_DAYS`` of sending.
- Reopened cases: of the cases opened in the period and closed at least once, those reopened.
- Lesson coverage per class: the classes by the share of their band's lessons given, and the
  fidelity of the lessons given (steps done of steps planned, minutes used of minutes designed).
- Under-reporting: for each school, victimization in the latest survey wave of each class
  opened in the period (Wilson interval) against reports per 100 students in the same period.
- Does it work: classes with a baseline survey and a follow-up after it (the latest follow-up
  opened in the period, the latest baseline before it), split by the lessons given between the
  two (half or more of their band's lessons, or fewer); for each group, victimization and "would
  tell an adult at school" before and after, and the change with Newcombe's interval.

Counts are published as everywhere (``insights.stats.shown_count``); the flag of a school is
worked out from the published counts only, so it gives away nothing the published counts do not.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, Integer, Select, and_, case, cast, distinct, func, literal, or_, select

from core.config import default
from core.model_types import utcnow
from curriculum.models import Delivery, Lesson
from curriculum.services import band_of, progress_statement
from extensions import db
from incidents.cases.enums import CaseState
from incidents.cases.models import Case, CaseTransition, Referral
from incidents.intake.models import Report
from insights import rollup
from insights.casework import case_figures
from insights.dashboard import format_decimal, format_percent, place_name, suppresses
from insights.figures import report_conditions, report_figures, unit_labels, whole_region
from insights.filters import Filters, Level
from insights.models import SurveyTally, SurveyWave, WaveKind
from insights.results import wave_conditions
from insights.sql import dialect, hours_between, key_sum
from insights.stats import (
    MEDIAN_MIN_ANSWERS,
    MIN_SURVEY_ANSWERS,
    ROUNDING_BASE,
    Change,
    Public,
    Share,
    Tally,
    newcombe,
    published_count,
    shown_count,
    shown_share,
    wilson,
)
from school.access import region_scope, school_scope
from school.models import BodyKind, Classroom, Role, School, User

# One school psychologist per 500 students: the staffing norm.
NORM_STUDENTS_PER_COUNSELOR = 500
# A school is flagged when the lower end of the 95% interval of victimization is at least this
# share, while even the most the published report count can stand for gives fewer than this
# many reports per 100 students.
FLAG_PREVALENCE = 0.10
FLAG_REPORTS_PER_100 = 1.0

ALL = _l("All priorities")


def referral_answer_days() -> int:
    return current_app.config["REFERRAL_ANSWER_DAYS"]


# --- percentiles in SQL ---------------------------------------------------------------------


def grouped_percentiles(
    source: Select, value: str, groups: list[str], fractions: dict[str, float]
) -> Select:
    """SELECT <groups>, <one column per fraction>, n FROM (source) GROUP BY <groups>.

    ``percentile_cont`` on PostgreSQL. SQLite has no percentile function: the same linear
    interpolation between the rows at positions floor(h) and ceil(h), h = (n - 1) × fraction
    (0-based, rows ordered by value), picked with ``row_number()`` and ``count()`` windows.
    Rows whose value is NULL are left out.
    """
    sub = source.subquery()
    keys = [sub.c[name] for name in groups]
    column = sub.c[value]
    if dialect() == "postgresql":
        return (
            select(
                *keys,
                *(
                    func.percentile_cont(fraction).within_group(column).label(name)
                    for name, fraction in fractions.items()
                ),
                func.count(column).label("n"),
            )
            .where(column.is_not(None))
            .group_by(*keys)
        )
    ranked = (
        select(
            *keys,
            column,
            func.row_number().over(partition_by=keys or None, order_by=column).label("rn"),
            func.count().over(partition_by=keys or None).label("cnt"),
        )
        .where(column.is_not(None))
        .subquery()
    )
    rn, cnt, v = ranked.c.rn, ranked.c.cnt, ranked.c[value]
    columns = []
    for name, fraction in fractions.items():
        h = (cnt - 1) * literal(fraction)
        low_index = cast(h, Integer)  # h ≥ 0: the cast is floor(h)
        high_index = low_index + case((h > low_index, 1), else_=0)
        low = func.max(case((rn == low_index + 1, v)))
        high = func.max(case((rn == high_index + 1, v)))
        h_group = (func.max(cnt) - 1) * literal(fraction)
        columns.append((low + (h_group - cast(h_group, Integer)) * (high - low)).label(name))
    return select(
        *[ranked.c[name] for name in groups], *columns, func.max(cnt).label("n")
    ).group_by(*[ranked.c[name] for name in groups])


# --- the figures ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ResponseRow:
    key: str
    label: str
    reports: int
    answered: int
    within: int
    due: int
    median: float | None
    p90: float | None


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


@dataclass(frozen=True)
class ReferralRow:
    key: str
    label: str
    sent: int
    acknowledged: int
    in_time: int
    due: int  # acknowledged, or sent longer ago than the time allowed


@dataclass(frozen=True)
class Reopened:
    cases: int
    closed: int  # closed at least once
    reopened: int


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


@dataclass(frozen=True)
class SchoolSignal:
    key: str
    label: str
    answers: int  # answers to the victimization question in the latest waves
    victim: Share | None  # None under MIN_SURVEY_ANSWERS
    reports: int
    students: int
    flagged: bool


BEFORE_AFTER_ITEMS = ("victim", "would_tell")
ITEM_TITLES = {
    "victim": _l("Was bullied or hurt (2-3 times a month or more)"),
    "would_tell": _l("Would tell an adult at school"),
}
LESSON_GROUPS = {
    "most": _l("Half or more of their lessons between the surveys"),
    "few": _l("Fewer lessons between the surveys"),
}


@dataclass(frozen=True)
class BeforeAfter:
    """One group of classes (``lessons``: "most" or "few") and one survey item."""

    lessons: str
    item: str
    classes: int
    before: Share | None
    after: Share | None
    change: Change | None

    @property
    def group_title(self) -> str:
        return str(LESSON_GROUPS[self.lessons])

    @property
    def item_title(self) -> str:
        return str(ITEM_TITLES[self.item])


@dataclass
class Evidence:
    user: User
    filters: Filters
    suppress: bool
    place_name: str
    response: list[ResponseRow] = field(default_factory=list)
    caseload: list[CaseloadRow] = field(default_factory=list)
    caseload_total: CaseloadRow | None = None
    referrals: list[ReferralRow] = field(default_factory=list)
    reopened: Reopened = Reopened(0, 0, 0)
    coverage: ClassCoverage = ClassCoverage(0, 0, 0, 0, 0, 0, 0, 0, 0)
    signals: list[SchoolSignal] = field(default_factory=list)
    schools_assessed: int = 0
    before_after: list[BeforeAfter] = field(default_factory=list)
    answer_days: int = field(default_factory=lambda: default("REFERRAL_ANSWER_DAYS"))
    day_night: list[DayNightRow] = field(default_factory=list)

    @property
    def level(self) -> str:
        return self.filters.level

    @property
    def flagged(self) -> list[SchoolSignal]:
        return [s for s in self.signals if s.flagged]

    @property
    def flagged_count(self) -> Public:
        """Schools, not children: shown as they are (the flag reads published counts only)."""
        return Public(len(self.flagged))

    # --- how numbers are shown (one place, as on the dashboard) -----------------------------
    def count(self, n: int) -> str:
        return format_decimal(shown_count(n, self.suppress))

    def share(self, part: int, whole: int) -> str:
        value = shown_share(part, whole, self.suppress)
        return "—" if value is None else format_percent(value, "#,##0.0%")

    def hours(self, row: ResponseRow, which: str) -> str:
        value = getattr(row, which)
        if value is None or (self.suppress and row.answered < MEDIAN_MIN_ANSWERS):
            return "—"
        return _("%(hours)s h", hours=format_decimal(value, "#,##0.0"))

    def per_counselor(self, row: CaseloadRow, what: str) -> str:
        """Students (or open cases) per psychologist, from the published count."""
        value = per_counselor(
            row.students if what == "students" else row.open_cases, row, self.suppress
        )
        return "—" if value is None else format_decimal(value, "#,##0.0")

    def verdicts(self) -> list[str]:
        """The result in words an official reads: the classes with most of their lessons."""
        return [verdict(b, self.count(b.classes)) for b in self.before_after if b.change]

    def per_100(self, signal: SchoolSignal) -> str:
        value = shown_share(signal.reports, signal.students, self.suppress)
        return "—" if value is None else format_decimal(value * 100, "#,##0.00")


def per_counselor(part: int, row: CaseloadRow, suppress: bool) -> float | None:
    """``part`` (students, open cases) per psychologist. The psychologists are staff, not
    children: their number is shown exactly; ``part`` is published as every count."""
    shown = shown_count(part, suppress)
    if not row.counselors:
        return None
    return shown / row.counselors


def _place(column, filters: Filters) -> list:
    if filters.school_id is not None:
        return [column == filters.school_id]
    if filters.region_id is not None:
        return [column.in_(select(School.id).where(School.region_id == filters.region_id))]
    return []


def _period(column, filters: Filters) -> list:
    begin, finish = filters.utc_range()
    return [column >= begin, column < finish]


def response_times(user: User, filters: Filters, now: datetime | None = None) -> list[ResponseRow]:
    """By priority, then all reports: counts within target, median and 90th percentile hours.

    The counts and the median are the dashboard's own (``insights.figures.report_figures``: the
    monthly totals for whole refreshed months, so the same figure on both pages); the 90th
    percentile is exact from the reports, except across the whole country or a whole region,
    where it comes from the same response-time histograms as the dashboard's medians (buckets
    10% wide)."""
    figures = report_figures(user, filters, str, now, unit_medians=False)
    p90 = _p90(user, filters, now)
    rows = [
        ResponseRow(
            t.key,
            str(t.label),
            t.reports,
            t.answered,
            t.within,
            t.due,
            t.median_hours,
            p90.get(t.key),
        )
        for t in figures.by_priority
    ]
    t = figures.timeliness
    rows.append(
        ResponseRow(
            "all",
            str(ALL),
            t.reports if t else 0,
            t.answered if t else 0,
            t.within if t else 0,
            t.due if t else 0,
            t.median_hours if t else None,
            p90.get("all"),
        )
    )
    return rows


P90 = 0.9


def _p90(user: User, filters: Filters, now: datetime | None) -> dict[str, float | None]:
    """{priority: hours, "all": hours} at the 90th percentile of the first-response times."""
    # Across the country, and in a region its analyst sees whole, from the histograms.
    if filters.level == Level.country or (
        filters.level == Level.region and whole_region(user, filters.region_id)
    ):
        cut = rollup.split(filters.start, filters.end, now)
        if cut.months:
            return _p90_from_histograms(user, filters, cut)
    conditions = report_conditions(user, filters)
    hours = hours_between(Report.created_at, Report.first_response_at).label("hours")
    fractions = {"p90": P90}
    source = select(Report.priority.label("grp"), hours).where(*conditions)
    result = {
        str(getattr(row.grp, "value", row.grp)): row.p90
        for row in db.session.execute(grouped_percentiles(source, "hours", ["grp"], fractions))
    }
    whole = db.session.execute(
        grouped_percentiles(select(hours).where(*conditions), "hours", [], fractions)
    ).first()
    result["all"] = whole.p90 if whole is not None else None
    return {key: float(value) if value is not None else None for key, value in result.items()}


def _p90_from_histograms(user: User, filters: Filters, cut) -> dict[str, float | None]:
    table = rollup.response_hours
    merged: dict[str, dict[int, int]] = {}
    for priority, bucket, n in db.session.execute(
        select(table.c.priority, table.c.bucket, func.sum(table.c.n))
        .where(
            region_scope(user, table.c.region_id),
            *([table.c.region_id == filters.region_id] if filters.region_id else []),
            table.c.month.in_(cut.months),
        )
        .group_by(table.c.priority, table.c.bucket)
    ):
        counts = merged.setdefault(priority, {})
        counts[int(bucket)] = counts.get(int(bucket), 0) + int(n)
    if cut.live_start is not None:
        live = replace(filters, start=cut.live_start)
        for (priority, _region), buckets in rollup.live_histograms(
            report_conditions(user, live)
        ).items():
            counts = merged.setdefault(priority, {})
            for bucket, n in buckets.items():
                counts[bucket] = counts.get(bucket, 0) + n
    everything: dict[int, int] = {}
    for buckets in merged.values():
        for bucket, n in buckets.items():
            everything[bucket] = everything.get(bucket, 0) + n
    result = {priority: percentile_from_histogram(c, P90) for priority, c in merged.items()}
    result["all"] = percentile_from_histogram(everything, P90)
    return result


def percentile_from_histogram(counts: dict[int, int], fraction: float) -> float | None:
    """``percentile_cont(fraction)`` of a response-time histogram {bucket: n}: the values at
    ranks floor(h) + 1 and ceil(h) + 1, h = (n - 1) × fraction, each placed in its bucket by its
    rank there (as ``insights.rollup.median_from_histogram`` does), interpolated between."""
    total = sum(counts.values())
    if not total:
        return None
    h = (total - 1) * fraction
    low = int(h)
    below = rollup.value_at_rank(counts, low + 1)
    if h == low:
        return below
    return below + (h - low) * (rollup.value_at_rank(counts, low + 2) - below)


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
        .where(school_scope(user, Classroom.school_id), *_place(Classroom.school_id, filters))
        .group_by(Classroom.school_id)
        .subquery()
    )
    staff = (
        select(User.school_id.label("school_id"), func.count().label("counselors"))
        .where(
            User.role == Role.counselor,
            User.active.is_(True),
            school_scope(user, User.school_id),
            *_place(User.school_id, filters),
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
            *_place(Case.school_id, filters),
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
        .where(school_scope(user, School.id), *_place(School.id, filters))
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


def referral_answers(
    user: User, filters: Filters, now: datetime | None = None
) -> list[ReferralRow]:
    """Referrals sent in the period, by kind of body: acknowledged, and acknowledged in time."""
    now = now or utcnow()
    days = referral_answer_days()
    waited = hours_between(Referral.sent_at, Referral.acknowledged_at)
    in_time = and_(Referral.acknowledged_at.is_not(None), waited <= days * 24)
    due = or_(Referral.acknowledged_at.is_not(None), Referral.sent_at < now - timedelta(days=days))
    rows = {
        row.kind: row
        for row in db.session.execute(
            select(
                Referral.body_kind.label("kind"),
                func.count().label("sent"),
                func.count(Referral.acknowledged_at).label("acknowledged"),
                func.coalesce(func.sum(case((in_time, 1), else_=0)), 0).label("in_time"),
                func.coalesce(func.sum(case((due, 1), else_=0)), 0).label("due"),
                key_sum(Referral.id).label("sent_key"),
                key_sum(Referral.id, Referral.acknowledged_at.is_not(None)).label("ack_key"),
                key_sum(Referral.id, in_time).label("in_time_key"),
                key_sum(Referral.id, due).label("due_key"),
            )
            .where(
                school_scope(user, Referral.school_id),
                *_place(Referral.school_id, filters),
                *_period(Referral.sent_at, filters),
            )
            .group_by(Referral.body_kind)
        )
    }
    result = []
    for kind in BodyKind:
        row = rows.get(kind)
        result.append(
            ReferralRow(
                kind.value,
                kind.title,
                Tally(row.sent, row.sent_key) if row else 0,
                Tally(row.acknowledged, row.ack_key) if row else 0,
                Tally(row.in_time, row.in_time_key) if row else 0,
                Tally(row.due, row.due_key) if row else 0,
            )
        )
    return result


def reopened_cases(user: User, filters: Filters, now: datetime | None = None) -> Reopened:
    """Cases opened in the period: how many were closed at least once, how many reopened.

    The cases opened are the dashboard's count (``insights.casework.case_figures``: the monthly
    totals for whole refreshed months, the rest counted), not a scan of a year of cases; those
    closed once are found from their closing transitions, so the statement reads the cases that
    were closed, not every case of the period."""
    cases = case_figures(user, filters, now).total
    reopened = Case.id.in_(
        select(CaseTransition.case_id).where(
            CaseTransition.from_state == CaseState.closed,
            CaseTransition.to_state != CaseState.closed,
        )
    )
    row = db.session.execute(
        select(
            func.count().label("closed"),
            func.coalesce(func.sum(case((reopened, 1), else_=0)), 0).label("reopened"),
            key_sum(Case.id).label("closed_key"),
            key_sum(Case.id, reopened).label("reopened_key"),
        ).where(
            Case.id.in_(
                select(CaseTransition.case_id).where(CaseTransition.to_state == CaseState.closed)
            ),
            school_scope(user, Case.school_id),
            *_place(Case.school_id, filters),
            *_period(Case.created_at, filters),
        )
    ).one()
    return Reopened(
        cases if isinstance(cases, Tally) else Tally(cases),
        Tally(row.closed, row.closed_key),
        Tally(row.reopened, row.reopened_key),
    )


def class_coverage(user: User, filters: Filters) -> ClassCoverage:
    """The classes in view by the share of their band's lessons given so far, and fidelity."""
    where = and_(school_scope(user, Classroom.school_id), *_place(Classroom.school_id, filters))
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


def verdict(row: BeforeAfter, classes: str) -> str:
    """One sentence: what changed, and whether the change is beyond chance."""
    change = row.change
    values = {
        "classes": classes,
        "before": format_percent(change.before.value, "#,##0.0%"),
        "after": format_percent(change.after.value, "#,##0.0%"),
    }
    few = row.lessons == "few"
    if row.item == "victim":
        if change.is_clear and change.value < 0:
            if few:
                return _(
                    "In the classes with fewer lessons between the two surveys (classes:"
                    " %(classes)s), the share of students who said they were bullied fell from"
                    " %(before)s to %(after)s; the fall is larger than chance alone would give.",
                    **values,
                )
            return _(
                "In the classes with half or more of their lessons between the two surveys"
                " (classes: %(classes)s), the share of students who said they were bullied fell"
                " from %(before)s to %(after)s; the fall is larger than chance alone would give.",
                **values,
            )
        if change.is_clear:
            if few:
                return _(
                    "In the classes with fewer lessons between the two surveys (classes:"
                    " %(classes)s), the share of students who said they were bullied rose from"
                    " %(before)s to %(after)s; the rise is larger than chance alone would give.",
                    **values,
                )
            return _(
                "In the classes with half or more of their lessons between the two surveys"
                " (classes: %(classes)s), the share of students who said they were bullied rose"
                " from %(before)s to %(after)s; the rise is larger than chance alone would give.",
                **values,
            )
        if few:
            return _(
                "In the classes with fewer lessons between the two surveys (classes:"
                " %(classes)s), the share of students who said they were bullied went from"
                " %(before)s to %(after)s; this change is within what chance alone could give.",
                **values,
            )
        return _(
            "In the classes with half or more of their lessons between the two surveys (classes:"
            " %(classes)s), the share of students who said they were bullied went from"
            " %(before)s to %(after)s; this change is within what chance alone could give.",
            **values,
        )
    if change.is_clear:
        if few:
            return _(
                "In the classes with fewer lessons between the two surveys (classes:"
                " %(classes)s), the share of students who would tell an adult at school went"
                " from %(before)s to %(after)s; the change is larger than chance alone would"
                " give.",
                **values,
            )
        return _(
            "In the classes with half or more of their lessons between the two surveys (classes:"
            " %(classes)s), the share of students who would tell an adult at school went from"
            " %(before)s to %(after)s; the change is larger than chance alone would give.",
            **values,
        )
    if few:
        return _(
            "In the classes with fewer lessons between the two surveys (classes: %(classes)s),"
            " the share of students who would tell an adult at school went from %(before)s to"
            " %(after)s; this change is within what chance alone could give.",
            **values,
        )
    return _(
        "In the classes with half or more of their lessons between the two surveys (classes:"
        " %(classes)s), the share of students who would tell an adult at school went from"
        " %(before)s to %(after)s; this change is within what chance alone could give.",
        **values,
    )


def _day_of(column):
    """The UTC calendar day of a timestamp column, comparable with a DATE column."""
    if dialect() == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)


def before_after(user: User, filters: Filters) -> list[BeforeAfter]:
    """Baseline against follow-up, for the classes with lessons between the two and without."""
    waves = wave_conditions(
        user,
        school_id=filters.school_id,
        region_id=filters.region_id,
        start=filters.start,
        end=filters.end,
    )
    latest = func.row_number().over(
        partition_by=SurveyWave.classroom_id,
        order_by=(SurveyWave.opened_at.desc(), SurveyWave.id.desc()),
    )
    follow = (
        select(
            SurveyWave.id.label("wave_id"),
            SurveyWave.classroom_id.label("classroom_id"),
            SurveyWave.opened_at.label("opened_at"),
            latest.label("rn"),
        )
        .where(*waves, SurveyWave.kind == WaveKind.follow_up, SurveyWave.answered > 0)
        .subquery()
    )
    base = (
        select(
            SurveyWave.id.label("wave_id"),
            SurveyWave.classroom_id.label("classroom_id"),
            SurveyWave.opened_at.label("opened_at"),
            latest.label("rn"),
        )
        .join(
            follow,
            and_(
                follow.c.classroom_id == SurveyWave.classroom_id,
                follow.c.rn == 1,
                SurveyWave.opened_at < follow.c.opened_at,
            ),
        )
        .where(
            school_scope(user, SurveyWave.school_id),
            SurveyWave.kind == WaveKind.baseline,
            SurveyWave.answered > 0,
        )
        .subquery()
    )
    band_lessons = (
        select(func.count(Lesson.id))
        .where(Lesson.band == band_of(Classroom.grade), Lesson.retired.is_(False))
        .correlate(Classroom)
        .scalar_subquery()
    )
    between = (
        select(func.count(distinct(Delivery.lesson_id)))
        .where(
            Delivery.classroom_id == base.c.classroom_id,
            Delivery.delivered_on >= _day_of(base.c.opened_at),
            Delivery.delivered_on < _day_of(follow.c.opened_at),
        )
        .correlate(base, follow)
        .scalar_subquery()
    )
    most = case((and_(band_lessons > 0, between * 2 >= band_lessons), "most"), else_="few")
    pairs = (
        select(
            base.c.classroom_id,
            base.c.wave_id.label("before_id"),
            follow.c.wave_id.label("after_id"),
            most.label("lessons"),
        )
        .join(follow, and_(follow.c.classroom_id == base.c.classroom_id, follow.c.rn == 1))
        .join(Classroom, Classroom.id == base.c.classroom_id)
        .where(base.c.rn == 1)
        .subquery()
    )
    classes = {
        row.lessons: Public(row.n)  # classes, not children
        for row in db.session.execute(
            select(pairs.c.lessons, func.count().label("n")).group_by(pairs.c.lessons)
        )
    }
    if not classes:
        return []
    side = case((SurveyTally.wave_id == pairs.c.before_id, "before"), else_="after")
    counts = {
        (row.lessons, row.side, row.item): (int(row.n), int(row.k))
        for row in db.session.execute(
            select(
                pairs.c.lessons,
                side.label("side"),
                SurveyTally.item,
                func.sum(SurveyTally.answers).label("n"),
                func.sum(SurveyTally.positive).label("k"),
            )
            .join(
                SurveyTally,
                or_(
                    SurveyTally.wave_id == pairs.c.before_id,
                    SurveyTally.wave_id == pairs.c.after_id,
                ),
            )
            .where(SurveyTally.item.in_(BEFORE_AFTER_ITEMS))
            .group_by(pairs.c.lessons, side, SurveyTally.item)
        )
    }
    rows = []
    for group in ("most", "few"):
        if group not in classes:
            continue
        for item in BEFORE_AFTER_ITEMS:
            shares = {}
            for name in ("before", "after"):
                n, k = counts.get((group, name, item), (0, 0))
                shares[name] = wilson(k, n) if n >= MIN_SURVEY_ANSWERS else None
            before, after = shares["before"], shares["after"]
            change = newcombe(before, after) if before and after else None
            rows.append(BeforeAfter(group, item, classes[group], before, after, change))
    return rows


def build(user: User, filters: Filters, export: bool = False, now=None) -> Evidence:
    filters = replace(filters, form=None)  # these figures are about the whole programme
    caseload_rows, caseload_total = caseload(user, filters)
    signals, assessed = under_reporting(user, filters)
    return Evidence(
        user=user,
        filters=filters,
        suppress=suppresses(user, export),
        place_name=place_name(filters),
        response=response_times(user, filters, now),
        caseload=caseload_rows,
        caseload_total=caseload_total,
        referrals=referral_answers(user, filters, now),
        reopened=reopened_cases(user, filters, now),
        coverage=class_coverage(user, filters),
        signals=signals,
        schools_assessed=Public(assessed),
        before_after=before_after(user, filters),
        answer_days=referral_answer_days(),
        day_night=response_by_day_and_night(user, filters),
    )


# --- time to first human response, by day and night -----------------------------


@dataclass(frozen=True)
class DayNightRow:
    key: str
    label: str
    answered: Tally
    median: float | None
    p90: float | None


DAY_NIGHT = {
    True: ("working_hours", _l("Arrived in the school's working hours")),
    False: ("night_weekend", _l("Arrived at night or at a weekend")),
}


def response_by_day_and_night(user: User, filters: Filters) -> list[DayNightRow]:
    """The median and 90th percentile hours to the first human response (an answer, triage or
    an acknowledgement), of the answered reports that arrived within their school's working
    hours and of those that arrived outside them (``Report.arrived_in_hours``, kept since
    migration 0018_escalation: older reports are in neither)."""
    conditions = [
        *report_conditions(user, filters),
        Report.first_response_at.is_not(None),
        Report.arrived_in_hours.is_not(None),
    ]
    hours = hours_between(Report.created_at, Report.first_response_at).label("hours")
    source = select(Report.arrived_in_hours.label("grp"), hours).where(*conditions)
    fractions = {"median": 0.5, "p90": P90}
    spread = grouped_percentiles(source, "hours", ["grp"], fractions).subquery()
    counted = (
        select(
            Report.arrived_in_hours.label("grp"),
            func.count(Report.id).label("n"),
            key_sum(Report.id).label("key"),
        )
        .where(*conditions)
        .group_by(Report.arrived_in_hours)
        .subquery()
    )
    # One statement: the counts (as tallies) beside the median and the 90th percentile.
    found = {
        bool(row.grp): row
        for row in db.session.execute(
            select(counted, spread.c.median, spread.c.p90).outerjoin(
                spread, spread.c.grp == counted.c.grp
            )
        )
    }
    rows = []
    for in_hours, (key, label) in DAY_NIGHT.items():
        row = found.get(in_hours)
        rows.append(
            DayNightRow(
                key,
                str(label),
                Tally(row.n, row.key) if row else Tally(),
                float(row.median) if row and row.median is not None else None,
                float(row.p90) if row and row.p90 is not None else None,
            )
        )
    return rows


# --- CSV ------------------------------------------------------------------------------------

CSV_HEADER = ["figure", "key", "label", "measure", "value"]


def csv_rows(ev: Evidence) -> list[list[str]]:
    """Long format, one number per line, as published (exports always suppress)."""
    rows: list[list[str]] = []

    def count(n: int) -> str:
        return str(shown_count(n, True))

    def ratio(part: int, whole: int, scale: float = 1.0) -> str:
        value = shown_share(part, whole, True)
        return "" if value is None else f"{value * scale:.4f}"

    def add(figure: str, key: str, label, measure: str, value) -> None:
        rows.append([figure, key, _cell(str(label)), measure, "" if value is None else str(value)])

    for r in ev.response:
        add("first_response", r.key, r.label, "reports", count(r.reports))
        add("first_response", r.key, r.label, "answered", count(r.answered))
        add("first_response", r.key, r.label, "within_target_share", ratio(r.within, r.due))
        hidden = r.answered < MEDIAN_MIN_ANSWERS
        for measure, value in (("median_hours", r.median), ("p90_hours", r.p90)):
            add(
                "first_response",
                r.key,
                r.label,
                measure,
                None if value is None or hidden else f"{value:.2f}",
            )
    for r in ev.day_night:
        add("first_response_day_night", r.key, r.label, "answered", count(r.answered))
        hidden = r.answered < MEDIAN_MIN_ANSWERS
        for measure, value in (("median_hours", r.median), ("p90_hours", r.p90)):
            shown = None if value is None or hidden else f"{value:.2f}"
            add("first_response_day_night", r.key, r.label, measure, shown)
    unit = "caseload_by_region" if ev.level == Level.country else "caseload_by_school"
    lines = [(unit, r) for r in ev.caseload]
    if ev.caseload_total is not None:
        lines.append(("caseload", ev.caseload_total))
    for figure, r in lines:
        add(figure, r.key, r.label, "schools", count(r.schools))
        add(figure, r.key, r.label, "students", count(r.students))
        add(figure, r.key, r.label, "classes_without_list", count(r.unlisted_classes))
        add(figure, r.key, r.label, "counselors", str(r.counselors))
        students = per_counselor(r.students, r, True)
        add(figure, r.key, r.label, "students_per_counselor", students and f"{students:.4f}")
        add(figure, r.key, r.label, "open_cases", count(r.open_cases))
        cases = per_counselor(r.open_cases, r, True)
        add(figure, r.key, r.label, "open_cases_per_counselor", cases and f"{cases:.4f}")
        add(figure, r.key, r.label, "schools_below_norm", count(r.below_norm))
    for r in ev.referrals:
        add("referral_answers", r.key, r.label, "sent", count(r.sent))
        add("referral_answers", r.key, r.label, "acknowledged", count(r.acknowledged))
        add("referral_answers", r.key, r.label, "in_time_share", ratio(r.in_time, r.due))
    o = ev.reopened
    add("reopened_cases", "all", _("Cases"), "cases", count(o.cases))
    add("reopened_cases", "all", _("Cases"), "closed", count(o.closed))
    add("reopened_cases", "all", _("Cases"), "reopened", count(o.reopened))
    add("reopened_cases", "all", _("Cases"), "reopened_share", ratio(o.reopened, o.closed))
    cov = ev.coverage
    for measure, n in (
        ("classes", cov.classes),
        ("not_started", cov.not_started),
        ("under_half", cov.under_half),
        ("half_or_more", cov.half_or_more),
        ("complete", cov.complete),
    ):
        add("lesson_coverage_by_class", "all", _("Classes"), measure, count(n))
    fidelity = [
        ("steps_done_share", cov.steps_done, cov.steps_total),
        ("minutes_used_share", cov.minutes_used, cov.minutes_designed),
    ]
    for measure, part, whole in fidelity:
        add(
            "lesson_fidelity",
            "all",
            _("Lessons given"),
            measure,
            f"{part / whole:.4f}" if whole else None,
        )
    add("under_reporting", "all", _("Schools"), "schools_assessed", count(ev.schools_assessed))
    for s in ev.signals:
        v = s.victim
        add("under_reporting", s.key, s.label, "victim_share", v and f"{v.value:.4f}")
        add("under_reporting", s.key, s.label, "victim_low", v and f"{v.low:.4f}")
        add("under_reporting", s.key, s.label, "victim_high", v and f"{v.high:.4f}")
        add("under_reporting", s.key, s.label, "survey_answers", count(s.answers))
        add("under_reporting", s.key, s.label, "reports", count(s.reports))
        add("under_reporting", s.key, s.label, "students", count(s.students))
        add("under_reporting", s.key, s.label, "reports_per_100", ratio(s.reports, s.students, 100))
        add("under_reporting", s.key, s.label, "flagged", "1" if s.flagged else "0")
    for b in ev.before_after:
        key = f"{b.lessons}/{b.item}"
        add("before_after", key, b.item, "classes", count(b.classes))
        for measure, share in (("before", b.before), ("after", b.after)):
            add("before_after", key, b.item, f"{measure}_share", share and f"{share.value:.4f}")
            add("before_after", key, b.item, f"{measure}_low", share and f"{share.low:.4f}")
            add("before_after", key, b.item, f"{measure}_high", share and f"{share.high:.4f}")
            add("before_after", key, b.item, f"{measure}_answers", share and str(share.n))
        c = b.change
        add("before_after", key, b.item, "change", c and f"{c.value:.4f}")
        add("before_after", key, b.item, "change_low", c and f"{c.low:.4f}")
        add("before_after", key, b.item, "change_high", c and f"{c.high:.4f}")
    return rows


def _cell(text: str) -> str:
    """A name that a spreadsheet would read as a formula is kept as text."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def to_csv(ev: Evidence) -> str:
    """UTF-8 with a byte order mark, so that a spreadsheet reads Kazakh and Russian names."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    writer.writerows(csv_rows(ev))
    return out.getvalue()
