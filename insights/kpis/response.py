"""Time to first human response: medians and 90th percentiles by priority (in SQL), and by
day and night."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, Select, case, cast, func, literal, select

from extensions import db
from incidents.intake.models import Report
from insights import rollup
from insights.figures import report_conditions, report_figures, whole_region
from insights.filters import Filters, Level
from insights.sql import dialect, hours_between, key_sum
from insights.stats import (
    Tally,
)
from school.access import region_scope
from school.models import User

ALL = _l("All priorities")


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
