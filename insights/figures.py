"""Administrative figures on reports, computed by the database (GROUP BY), never row by row.

Every query starts from ``report_conditions``, which puts the user's scope (``school_scope``)
first; the figures carry counts only, never a narrative, a label or a case.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, String, case, func, select, type_coerce

from extensions import db
from incidents.deadlines import awaiting_response_overdue, response_targets
from incidents.models import (
    Perpetrator,
    Place,
    Priority,
    Report,
    ReportViolenceForm,
    ViolenceForm,
)
from insights.filters import Filters, Level
from insights.sql import grouped_median, hours_between, month_of
from school.access import school_scope
from school.models import Region, School, User, utcnow

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
class Count:
    key: str
    label: str
    count: int


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
    by_place: list[Count] = field(default_factory=list)
    by_perpetrator: list[Count] = field(default_factory=list)
    timeliness: Timeliness | None = None
    by_priority: list[Timeliness] = field(default_factory=list)
    by_unit: list[Timeliness] = field(default_factory=list)


def _count_by(column, conditions, titles: dict, order: list) -> list[Count]:
    rows = dict(
        db.session.execute(
            select(column, func.count()).select_from(Report).where(*conditions).group_by(column)
        ).all()
    )
    counts = []
    for key in order:
        counts.append(Count(str(key), str(titles[key]), int(rows.get(key, 0))))
    return counts


def _forms(conditions) -> list[Count]:
    rows = dict(
        db.session.execute(
            select(ReportViolenceForm.form, func.count())
            .join(Report, Report.id == ReportViolenceForm.report_id)
            .where(*conditions)
            .group_by(ReportViolenceForm.form)
        ).all()
    )
    return [Count(form.value, form.title, int(rows.get(form, 0))) for form in ViolenceForm]


def _months(conditions, filters: Filters, month_label) -> tuple[list[Count], dict]:
    month = month_of(Report.created_at).label("month")
    totals = dict(
        db.session.execute(
            select(month, func.count()).select_from(Report).where(*conditions).group_by(month)
        ).all()
    )
    crossed: dict[str, dict[str, int]] = {key: {} for key in filters.months()}
    for key, form, count in db.session.execute(
        select(month, ReportViolenceForm.form, func.count())
        .join(Report, Report.id == ReportViolenceForm.report_id)
        .where(*conditions)
        .group_by(month, ReportViolenceForm.form)
    ):
        crossed.setdefault(key, {})[ViolenceForm(form).value] = int(count)
    by_month = [Count(key, month_label(key), int(totals.get(key, 0))) for key in filters.months()]
    return by_month, crossed


def _target_hours():
    return case(
        {p.value: span.total_seconds() / 3600 for p, span in response_targets().items()},
        value=Report.priority,
    )


def timeliness(
    conditions, group=None, labels=None, now: datetime | None = None
) -> list[Timeliness]:
    """Reports, answers, answers within target, overdue and the median hours, per group
    (``group`` None: one row for the whole selection).

    The share within target is of the reports already decided: answered, or past their target
    without an answer (a fresh unanswered report is neither in nor out yet).
    """
    now = now or utcnow()
    labels = labels or {}
    hours = hours_between(Report.created_at, Report.first_response_at)
    overdue = awaiting_response_overdue(
        Report.created_at, Report.priority, Report.first_response_at, now
    )
    keys = [group.label("grp")] if group is not None else []

    def source(*columns):
        stmt = select(*keys, *columns).select_from(Report)
        if group is School.region_id:
            stmt = stmt.join(School, School.id == Report.school_id)
        return stmt.where(*conditions)

    stmt = source(
        func.count().label("reports"),
        func.count(Report.first_response_at).label("answered"),
        func.coalesce(func.sum(case((hours <= _target_hours(), 1), else_=0)), 0).label("within"),
        func.coalesce(func.sum(case((overdue, 1), else_=0)), 0).label("overdue"),
    )
    names = ["grp"] if keys else []
    if keys:
        stmt = stmt.group_by(keys[0])
    medians = {
        (row.grp if keys else None): float(row.median)
        for row in db.session.execute(grouped_median(source(hours.label("hours")), "hours", names))
        if row.median is not None
    }
    result = []
    for row in db.session.execute(stmt):
        if not row.reports:
            continue
        grp = row.grp if keys else None
        result.append(
            Timeliness(
                key="" if grp is None else str(grp),
                label=str(labels.get(grp, "" if grp is None else grp)),
                reports=int(row.reports),
                answered=int(row.answered),
                within=int(row.within),
                overdue=int(row.overdue),
                median_hours=medians.get(grp),
            )
        )
    return result


def unit_labels(level: str, keys) -> dict:
    """Names of the regions or schools listed in a breakdown (only those, by id)."""
    keys = [k for k in keys if k is not None]
    if not keys:
        return {}
    if level == Level.country:
        return {r.id: r.name for r in db.session.scalars(select(Region).where(Region.id.in_(keys)))}
    return {s.id: s.name for s in db.session.scalars(select(School).where(School.id.in_(keys)))}


def report_figures(user: User, filters: Filters, month_label, now=None) -> ReportFigures:
    conditions = report_conditions(user, filters)
    figures = ReportFigures()
    figures.by_month, figures.month_form = _months(conditions, filters, month_label)
    figures.total = sum(c.count for c in figures.by_month)
    figures.by_form = _forms(conditions)
    figures.by_place = _count_by(
        func.coalesce(type_coerce(Report.place, String), ""),
        conditions,
        {"": NOT_GIVEN, **{p.value: p.title for p in Place}},
        [p.value for p in Place] + [""],
    )
    figures.by_perpetrator = _count_by(
        Report.perpetrator,
        conditions,
        {p: p.title for p in Perpetrator},
        list(Perpetrator),
    )
    by_priority = {
        t.key: t
        for t in timeliness(conditions, Report.priority, {p.value: p.title for p in Priority}, now)
    }
    figures.by_priority = [
        by_priority.get(p.value) or Timeliness(p.value, p.title, 0, 0, 0, 0, None) for p in Priority
    ]
    overall = timeliness(conditions, None, None, now)
    figures.timeliness = overall[0] if overall else None
    if filters.level != Level.school:
        group = School.region_id if filters.level == Level.country else Report.school_id
        rows = timeliness(conditions, group, {}, now)
        labels = unit_labels(filters.level, [int(r.key) for r in rows])
        figures.by_unit = sorted(
            (Timeliness(**{**r.__dict__, "label": labels.get(int(r.key), r.key)}) for r in rows),
            key=lambda r: (-r.reports, r.label),
        )
    return figures
