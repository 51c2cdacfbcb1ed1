"""Administrative figures on reports, computed by the database (GROUP BY), never row by row.

Over 400 lines: the live counts and their merge with the monthly totals (``_with_totals``) must
stay side by side, so that both give the same figure for the same rows.

Every query starts from ``report_conditions``, which puts the user's scope (``school_scope``)
first; the figures carry counts only, never a narrative, a label or a case.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from flask import g
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, String, case, func, literal, select, type_coerce

from core.model_types import utcnow
from extensions import db
from incidents.cases.deadlines import awaiting_response_overdue, response_targets
from incidents.intake.models import (
    Perpetrator,
    Place,
    Priority,
    Report,
    ReportViolenceForm,
    ViolenceForm,
)
from insights import named_reports, rollup
from insights.filters import Filters, Level
from insights.sql import dialect, grouped_median, grouping_sets, hours_between, key_sum, month_of
from insights.stats import Count, Tally
from school.access import region_scope, school_scope
from school.models import Region, Role, School, User

NOT_GIVEN = _l("Not given")


def report_conditions(user: User, filters: Filters) -> list[ColumnElement[bool]]:
    """The reports a dashboard counts: in the user's scope, the period, the place, the form."""
    begin, finish = filters.utc_range()
    conditions = [
        school_scope(user, Report.school_id),
        Report.created_at >= begin,
        Report.created_at < finish,
    ]
    if filters.school_id is not None:
        conditions.append(Report.school_id == filters.school_id)
    elif filters.region_id is not None:
        conditions.append(
            Report.school_id.in_(select(School.id).where(School.region_id == filters.region_id))
        )
    if filters.form is not None:
        conditions.append(
            Report.id.in_(
                select(ReportViolenceForm.report_id).where(ReportViolenceForm.form == filters.form)
            )
        )
    return conditions


@dataclass(frozen=True)
class Timeliness:
    """First responses of a group of reports against the targets of their priorities."""

    key: str
    label: str
    reports: int
    answered: int
    within: int  # answered within the target
    overdue: int  # not answered and past the target
    median_hours: float | None

    @property
    def due(self) -> int:
        """Reports whose answer time is known to be in or out of target."""
        return self.answered + self.overdue

    @property
    def within_share(self) -> float | None:
        return self.within / self.due if self.due else None


@dataclass
class ReportFigures:
    total: int = 0
    by_month: list[Count] = field(default_factory=list)
    # month -> form -> count (a report naming two forms counts under each)
    month_form: dict[str, dict[str, int]] = field(default_factory=dict)
    by_form: list[Count] = field(default_factory=list)
    # Teachers' named reports by form: their own line (``insights.named_reports`` says why).
    teacher_by_form: list[Count] = field(default_factory=list)
    by_place: list[Count] = field(default_factory=list)
    by_perpetrator: list[Count] = field(default_factory=list)
    timeliness: Timeliness | None = None
    by_priority: list[Timeliness] = field(default_factory=list)
    by_unit: list[Timeliness] = field(default_factory=list)
    # False when the units came without their medians (``report_figures``' ``unit_medians``).
    unit_medians: bool = True


def _report_counts(conditions, filters: Filters, month_label) -> ReportFigures:
    """Reports per month, per place and per who did it: one pass over the reports."""
    months = filters.months()
    place = func.coalesce(type_coerce(Report.place, String), "")
    dimensions = {"place": place, "perpetrator": Report.perpetrator}
    if len(months) > 1:  # a single month needs no month of each report
        dimensions["month"] = month_of(Report.created_at)
    sets = grouping_sets(
        select().select_from(Report),
        conditions,
        dimensions,
        [func.count().label("n"), key_sum(Report.id).label("n_key")],
    )
    counts = {
        name: {key: Tally(row.n, row.n_key) for key, row in rows} for name, rows in sets.items()
    }
    if len(months) == 1:
        counts["month"] = {months[0]: sum(counts["place"].values())}
    figures = ReportFigures()
    figures.by_month = [
        Count(key, month_label(key), counts["month"].get(key, 0)) for key in filters.months()
    ]
    figures.total = sum(counts["month"].values())
    figures.by_place = [Count(p.value, p.title, counts["place"].get(p.value, 0)) for p in Place] + [
        Count("", str(NOT_GIVEN), counts["place"].get("", 0))
    ]
    figures.by_perpetrator = [
        Count(p.value, p.title, counts["perpetrator"].get(p, 0)) for p in Perpetrator
    ]
    return figures


def _forms_by_month(conditions, filters: Filters) -> tuple[list[Count], dict]:
    """Reports per form of violence, per month and in all (a report naming two forms counts
    under each)."""
    months = filters.months()
    # A single month needs no month of each report (the usual live part: this month).
    month = month_of(Report.created_at) if len(months) > 1 else literal(months[0])
    crossed: dict[str, dict[str, int]] = {key: {} for key in months}
    totals: dict[str, int] = {}
    stmt = (
        select(month.label("month"), ReportViolenceForm.form, func.count(), key_sum(Report.id))
        .join(Report, Report.id == ReportViolenceForm.report_id)
        .where(*conditions)
        .group_by(ReportViolenceForm.form)
    )
    if len(months) > 1:
        stmt = stmt.group_by(month)
    for key, form, count, report_ids in db.session.execute(stmt):
        form = ViolenceForm(form).value
        tally = Tally(count, report_ids)
        crossed.setdefault(key, {})[form] = tally
        totals[form] = totals.get(form, 0) + tally
    by_form = [Count(f.value, f.title, totals.get(f.value, 0)) for f in ViolenceForm]
    return by_form, crossed


def _target_hours():
    return case(
        {p.value: span.total_seconds() / 3600 for p, span in response_targets().items()},
        value=Report.priority,
    )


def timeliness_sets(
    conditions, sets: dict, now: datetime | None = None, medians: bool = True
) -> dict[str, list]:
    """Reports, answers, answers within target, overdue and the median hours, for several
    groupings at once ({name: expression, or None for all the reports}).

    The share within target is of the reports already decided: answered, or past their target
    without an answer (a fresh unanswered report is neither in nor out yet).
    """
    now = now or utcnow()
    hours = hours_between(Report.created_at, Report.first_response_at)
    overdue = awaiting_response_overdue(
        Report.created_at, Report.priority, Report.first_response_at, now
    )
    source = select().select_from(Report)
    if any(expr is School.region_id for expr in sets.values()):
        source = source.join(School, School.id == Report.school_id)
    answered = Report.first_response_at.is_not(None)
    within = hours <= _target_hours()
    aggregates = [
        func.count().label("reports"),
        func.count(Report.first_response_at).label("answered"),
        func.coalesce(func.sum(case((within, 1), else_=0)), 0).label("within"),
        func.coalesce(func.sum(case((overdue, 1), else_=0)), 0).label("overdue"),
        key_sum(Report.id).label("reports_key"),
        key_sum(Report.id, answered).label("answered_key"),
        key_sum(Report.id, within).label("within_key"),
        key_sum(Report.id, overdue).label("overdue_key"),
    ]
    postgres = dialect() == "postgresql"
    if postgres and medians:
        aggregates.append(func.percentile_cont(0.5).within_group(hours).label("median"))
    rows = grouping_sets(source, conditions, sets, aggregates)
    result: dict[str, list] = {}
    for name, expr in sets.items():
        if not medians:
            middle = {}
        elif postgres:
            middle = {key: row.median for key, row in rows[name]}
        else:
            keyed = [expr.label("grp")] if expr is not None else []
            middle = {
                (row.grp if keyed else None): row.median
                for row in db.session.execute(
                    grouped_median(
                        source.add_columns(*keyed, hours.label("hours")).where(*conditions),
                        "hours",
                        ["grp"] if keyed else [],
                    )
                )
            }
        result[name] = [
            Timeliness(
                key="" if key is None else str(key),
                label="",
                reports=Tally(row.reports, row.reports_key),
                answered=Tally(row.answered, row.answered_key),
                within=Tally(row.within, row.within_key),
                overdue=Tally(row.overdue, row.overdue_key),
                median_hours=float(middle[key]) if middle.get(key) is not None else None,
            )
            for key, row in rows[name]
            if row.reports
        ]
    return result


def timeliness(
    conditions, group=None, labels=None, now: datetime | None = None
) -> list[Timeliness]:
    """``timeliness_sets`` for one grouping, with labels."""
    labels = labels or {}
    rows = timeliness_sets(conditions, {"only": group}, now)["only"]
    return [replace(t, label=str(labels.get(t.key, t.key))) for t in rows]


def unit_labels(level: str, keys) -> dict:
    """Names of the regions or schools listed in a breakdown. Several figures of a page name the
    same units: the names are kept for the request, and only those not yet known are read (all
    the regions at once; schools by id)."""
    keys = {k for k in keys if k is not None}
    if not keys:
        return {}
    known = g.setdefault("unit_names", {}).setdefault(level, {})
    missing = keys - known.keys()
    if missing and level == Level.country:
        known.update((r.id, r.name) for r in db.session.scalars(select(Region)))
    elif missing:
        rows = db.session.execute(select(School.id, School.name).where(School.id.in_(missing)))
        known.update((school_id, name) for school_id, name in rows)
    return {k: known[k] for k in keys if k in known}


def remember_unit_names(level: str, units) -> None:
    """Names the page has read already (the regions or schools of its filter lists)."""
    g.setdefault("unit_names", {}).setdefault(level, {}).update((u.id, u.name) for u in units)


def report_figures(
    user: User, filters: Filters, month_label, now=None, unit_medians: bool = True
) -> ReportFigures:
    """Every report figure for the filters. Whole closed months come from the monthly totals
    (``insights.rollup``) when they have been refreshed; the rest is counted from the reports.
    A school's own page and a filter on a form of violence always count the reports.
    ``unit_medians`` False: a region's schools come without their medians (a page that lists a
    few of them adds theirs with ``with_unit_medians``)."""
    figures = None
    if filters.form is None and filters.level != Level.school:
        cut = rollup.split(filters.start, filters.end, now)
        if cut.months:
            figures = _with_totals(user, filters, cut, month_label, now, unit_medians)
    if figures is None:
        figures = live_figures(user, filters, month_label, now)
    figures.teacher_by_form = named_reports.by_form(user, filters)
    return figures


def live_figures(
    user: User, filters: Filters, month_label, now=None, medians: bool = True
) -> ReportFigures:
    """The figures counted from the reports themselves (``medians`` False: leave them out)."""
    conditions = report_conditions(user, filters)
    figures = _report_counts(conditions, filters, month_label)
    figures.by_form, figures.month_form = _forms_by_month(conditions, filters)
    sets = {"priority": Report.priority, "all": None}
    if filters.level != Level.school:
        sets["unit"] = _unit(filters)
    rows = timeliness_sets(conditions, sets, now, medians)
    by_priority = {t.key: t for t in rows["priority"]}
    figures.by_priority = [
        replace(by_priority[p.value], label=p.title)
        if p.value in by_priority
        else Timeliness(p.value, p.title, 0, 0, 0, 0, None)
        for p in Priority
    ]
    figures.timeliness = rows["all"][0] if rows["all"] else None
    if "unit" in rows:
        figures.by_unit = _sorted_units(filters, rows["unit"])
    return figures


def _unit(filters: Filters):
    return School.region_id if filters.level == Level.country else Report.school_id


def _sorted_units(filters: Filters, rows: list[Timeliness]) -> list[Timeliness]:
    labels = unit_labels(filters.level, [int(t.key) for t in rows])
    return sorted(
        (replace(t, label=labels.get(int(t.key), t.key)) for t in rows),
        key=lambda t: (-t.reports, t.label),
    )


def whole_region(user: User, region_id: int) -> bool:
    """True when the user sees every school of the region (so the region's histograms, which
    count all of them, are the user's figures)."""
    return user.has_role(Role.admin) or (
        user.has_role(Role.analyst) and user.region_id in (None, region_id)
    )


def _with_totals(
    user: User, filters: Filters, cut, month_label, now, unit_medians: bool = True
) -> ReportFigures:
    hours = rollup.response_hours
    if filters.level == Level.country:
        # The whole country (in the user's regions): the per-region totals.
        table = rollup.region_months
        totals = rollup.read(
            table,
            [region_scope(user, table.c.region_id)],
            cut.months,
            table.c.region_id,
            [region_scope(user, hours.c.region_id)],
        )
    else:
        table = rollup.report_months
        whole = whole_region(user, filters.region_id)
        # A region its user sees whole: its months from the per-region totals (12 rows).
        regions = rollup.region_months
        totals = rollup.read(
            table,
            [school_scope(user, table.c.school_id), table.c.region_id == filters.region_id],
            cut.months,
            table.c.school_id,
            [hours.c.region_id == filters.region_id] if whole else None,
            (regions, [regions.c.region_id == filters.region_id]) if whole else None,
        )
    live = None
    if cut.live_start is not None:
        live_filters = replace(filters, start=cut.live_start)
        live = live_figures(user, live_filters, month_label, now, medians=False)
    figures = ReportFigures()
    live_months = {c.key: c.count for c in live.by_month} if live else {}
    figures.by_month = [
        Count(
            key,
            month_label(key),
            totals.by_month.get(key, {}).get("reports", 0) + live_months.get(key, 0),
        )
        for key in filters.months()
    ]
    figures.total = sum(c.count for c in figures.by_month)
    figures.month_form = {}
    for key in filters.months():
        rolled = totals.by_month.get(key, {})
        counted = live.month_form.get(key, {}) if live else {}
        figures.month_form[key] = {
            f.value: n
            for f in ViolenceForm
            if (n := rolled.get(f"form_{f.value}", 0) + counted.get(f.value, 0))
        }

    def add(counts: list[Count], prefix: str, keys: list[str], live_counts) -> list[Count]:
        extra = {c.key: c.count for c in live_counts} if live else {}
        return [
            replace(c, count=totals.overall.get(f"{prefix}_{key}", 0) + extra.get(c.key, 0))
            for c, key in zip(counts, keys, strict=True)
        ]

    places = [Count(p.value, p.title, 0) for p in Place] + [Count("", str(NOT_GIVEN), 0)]
    figures.by_place = add(places, "place", rollup.PLACES, live.by_place if live else [])
    figures.by_perpetrator = add(
        [Count(p.value, p.title, 0) for p in Perpetrator],
        "perpetrator",
        [p.value for p in Perpetrator],
        live.by_perpetrator if live else [],
    )
    figures.by_form = add(
        [Count(f.value, f.title, 0) for f in ViolenceForm],
        "form",
        [f.value for f in ViolenceForm],
        live.by_form if live else [],
    )
    medians = _medians(user, filters, totals, live_filters if live else None, now, unit_medians)

    def timeliness_of(counts: dict[str, int], key: str, label: str, extra, median_key):
        """A row from counts over every priority ({"reports", "answered", ...})."""
        row = Timeliness(
            key,
            label,
            counts.get("reports", 0),
            counts.get("answered", 0),
            counts.get("within", 0),
            counts.get("overdue", 0),
            medians.get(median_key),
        )
        return _plus(row, extra)

    overall = {
        m: sum((totals.overall.get(f"{m}_{p.value}", 0) for p in Priority), start=0)
        for m in rollup.UNIT_MEASURES
    }

    def priority_row(p: Priority) -> Timeliness:
        counts = totals.overall
        row = Timeliness(
            p.value,
            p.title,
            counts.get(f"reports_{p.value}", 0),
            counts.get(f"answered_{p.value}", 0),
            counts.get(f"within_{p.value}", 0),
            counts.get(f"overdue_{p.value}", 0),
            medians.get(("priority", p.value)),
        )
        extra = next((t for t in live.by_priority if t.key == p.value), None) if live else None
        return _plus(row, extra)

    figures.by_priority = [priority_row(p) for p in Priority]
    figures.timeliness = timeliness_of(
        overall, "", "", live.timeliness if live else None, ("all", None)
    )
    live_units = {t.key: t for t in live.by_unit} if live else {}
    keys = {str(k) for k in totals.by_unit} | set(live_units)
    units = [
        timeliness_of(
            totals.by_unit.get(int(key), {}), key, key, live_units.get(key), ("unit", int(key))
        )
        for key in keys
    ]
    figures.by_unit = _sorted_units(filters, [u for u in units if u.reports])
    figures.unit_medians = (
        unit_medians
        or filters.level == Level.country
        or not whole_region(user, filters.region_id)  # every median exact already
    )
    return figures


def _plus(row: Timeliness, extra: Timeliness | None) -> Timeliness:
    """Totals plus the live counts (the median was computed over both already)."""
    if extra is None:
        return row
    return replace(
        row,
        reports=row.reports + extra.reports,
        answered=row.answered + extra.answered,
        within=row.within + extra.within,
        overdue=row.overdue + extra.overdue,
    )


def _medians(user, filters: Filters, totals, live_filters, now, unit_medians=True) -> dict:
    """Medians over the whole period, read from the response-time histograms (rolled-up months
    plus the live months bucketed the same way): by priority, in all, and across the country per
    region. A region's schools have exact medians from their reports (``school_medians``: all of
    them when ``unit_medians``, else none here). Where the user sees only part of a region (no
    histograms were read), every median is exact, from the reports."""
    country = filters.level == Level.country
    if not country and not whole_region(user, filters.region_id):
        return _exact_medians(user, filters, now)
    histograms = {k: dict(v) for k, v in totals.histograms.items()}
    if live_filters is not None:
        live = rollup.live_histograms(report_conditions(user, live_filters))
        for key, counts in live.items():
            merged = histograms.setdefault(key, {})
            for bucket, n in counts.items():
                merged[bucket] = merged.get(bucket, 0) + n
    grouped: dict = {}
    for (priority, region), counts in histograms.items():
        groups = [("priority", priority), ("all", None)]
        if country:
            groups.append(("unit", region))
        for group in groups:
            merged = grouped.setdefault(group, {})
            for bucket, n in counts.items():
                merged[bucket] = merged.get(bucket, 0) + n
    medians = {group: rollup.median_from_histogram(c) for group, c in grouped.items()}
    if not country and unit_medians:
        for school, median in school_medians(user, filters, None).items():
            medians[("unit", school)] = median
    return medians


def _exact_medians(user, filters: Filters, now) -> dict:
    rows = timeliness_sets(
        [*report_conditions(user, filters), Report.first_response_at.is_not(None)],
        {"priority": Report.priority, "unit": _unit(filters), "all": None},
        now,
    )
    medians = {}
    for name, items in rows.items():
        for t in items:
            key = None if name == "all" else (t.key if name == "priority" else int(t.key))
            medians[(name, key)] = t.median_hours
    return medians


def school_medians(user: User, filters: Filters, schools) -> dict[int, float]:
    """{school: exact median hours to the first response} over the period, of the schools of a
    region's page (``schools``: these ids; None: every school of the region). One statement;
    the schools are named by id, so the database reads only their rows (an index range per
    school) and knows how many it will sort."""
    if schools is not None and not schools:
        return {}
    begin, finish = filters.utc_range()
    where = [
        Report.created_at >= begin,
        Report.created_at < finish,
        Report.first_response_at.is_not(None),
    ]
    # The user's scope, unless it is the region itself: the same region filter twice made the
    # planner expect a tenth of the schools (65 for 700).
    if not whole_region(user, filters.region_id):
        where.append(school_scope(user, Report.school_id))
    if schools is not None:
        where.append(Report.school_id.in_(sorted(schools)))
    else:
        where.append(
            Report.school_id.in_(select(School.id).where(School.region_id == filters.region_id))
        )
    hours = hours_between(Report.created_at, Report.first_response_at)
    source = select(Report.school_id.label("grp"), hours.label("hours")).where(*where)
    return {
        int(row.grp): float(row.median)
        for row in db.session.execute(grouped_median(source, "hours", ["grp"]))
        if row.median is not None
    }


def with_unit_medians(user: User, filters: Filters, rows: list[Timeliness]) -> list[Timeliness]:
    """The rows of a region's schools with their exact medians (``school_medians``)."""
    medians = school_medians(user, filters, {int(t.key) for t in rows})
    return [replace(t, median_hours=medians.get(int(t.key))) for t in rows]
