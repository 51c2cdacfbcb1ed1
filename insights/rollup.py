"""Monthly totals of past reports, so that a national dashboard does not re-read every report.

Over 400 lines: the reports', cases' and referrals' totals share one refresh, one change check
(``changed_months``/``_differs``) and one reader; split by kind, each would repeat them.

A country-wide period holds hundreds of thousands of reports; counting them again on every page
view grows with the data. Past days hardly change, so their totals are kept per school and
month (``stats_report_months``, summed per region in ``stats_region_months``: counts by place,
who did it, form and priority, answers, answers within target, overdue) and, per region, a
histogram of the hours to the first response (``stats_response_hours``) from which the
national medians are read. The dashboards add today's reports, counted live, to these totals.

Cases are kept the same way, by the month they were opened: per school and per region, how
many are still open and how many closed with each outcome (``stats_case_months``,
``stats_case_region_months``); the cases-by-outcome figure adds today's cases, counted live.

``flask --app app insights refresh-stats`` (nightly, from cron or the job queue) rebuilds, in SQL
(INSERT ... SELECT ... GROUP BY), the totals of the months that changed since the last run
(``changed_months``: the current one up to today, the months of late answers, changed cases and
reports passing their target, and any month whose stored counts no longer match its rows);
``--full`` rebuilds every month.
A first response given today to an earlier report, or a case closed today, shows after the
next refresh. A period that no refresh covers is counted live from the reports: a missing
refresh makes the page slower, never wrong. A school's own page, and any page filtered on a
form of violence, are always counted live.

The histogram has buckets 10% wide (minutes 1.1^b to 1.1^(b+1)); a median read from it, each
middle value placed inside its bucket by its rank there, is within about 5% of the exact one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask import g, has_app_context, has_request_context
from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    type_coerce,
)

from core.clock import local_zone
from core.model_types import UTCDateTime, utcnow
from extensions import db
from incidents.cases.deadlines import awaiting_response_overdue
from incidents.cases.enums import CaseState
from incidents.cases.models import Case, Referral
from incidents.intake.models import (
    Perpetrator,
    Place,
    Priority,
    Report,
    ReportViolenceForm,
    ViolenceForm,
)
from insights.sql import hours_between, key_sum
from insights.stats import Tally
from school.models import School

PLACES = [p.value for p in Place] + ["none"]
COUNT_COLUMNS = (
    ["reports"]
    + [f"place_{p}" for p in PLACES]
    + [f"perpetrator_{p.value}" for p in Perpetrator]
    + [f"form_{f.value}" for f in ViolenceForm]
    + [
        f"{measure}_{p.value}"
        for p in Priority
        for measure in ("reports", "answered", "within", "overdue")
    ]
)

# Beside each count, the key of the reports it counts (the sum of their ids): a count read from
# the totals is published as the same reports counted live would be (``insights.stats.Tally``).
KEY_COLUMNS = [f"{name}_key" for name in COUNT_COLUMNS]
# What a region's or a school's row of the totals is read for (``read``'s ``by_unit``): these
# measures over every priority.
UNIT_MEASURES = ("reports", "answered", "within", "overdue")


def _count_columns():
    return [
        *(Column(name, Integer, nullable=False, default=0) for name in COUNT_COLUMNS),
        *(Column(name, BigInteger, nullable=False, default=0) for name in KEY_COLUMNS),
    ]


report_months = Table(
    "stats_report_months",
    db.metadata,
    Column("month", String(7), primary_key=True),
    Column("school_id", ForeignKey("schools.id", ondelete="CASCADE"), primary_key=True),
    Column("region_id", ForeignKey("regions.id"), nullable=False),
    *_count_columns(),
    Index("ix_stats_report_months_region_month", "region_id", "month"),
)

# The same totals summed per region, for the national page (20 rows a month, not thousands).
region_months = Table(
    "stats_region_months",
    db.metadata,
    Column("month", String(7), primary_key=True),
    Column("region_id", ForeignKey("regions.id"), primary_key=True),
    *_count_columns(),
)

response_hours = Table(
    "stats_response_hours",
    db.metadata,
    Column("month", String(7), primary_key=True),
    Column("region_id", ForeignKey("regions.id"), primary_key=True),
    Column("priority", String(16), primary_key=True),
    Column("bucket", SmallInteger, primary_key=True),
    Column("n", Integer, nullable=False),
)

# Cases by the month they were opened: how many are open, how many closed with each outcome.
case_months = Table(
    "stats_case_months",
    db.metadata,
    Column("month", String(7), primary_key=True),
    Column("school_id", ForeignKey("schools.id", ondelete="CASCADE"), primary_key=True),
    Column("outcome", String(32), primary_key=True),  # an Outcome's value, or "open"
    Column("region_id", ForeignKey("regions.id"), nullable=False),
    Column("n", Integer, nullable=False),
    Column("n_key", BigInteger, nullable=False, default=0),
    Index("ix_stats_case_months_region_month", "region_id", "month"),
)

case_region_months = Table(
    "stats_case_region_months",
    db.metadata,
    Column("month", String(7), primary_key=True),
    Column("region_id", ForeignKey("regions.id"), primary_key=True),
    Column("outcome", String(32), primary_key=True),
    Column("n", Integer, nullable=False),
    Column("n_key", BigInteger, nullable=False, default=0),
)


# Referrals by the month they were made, per kind of body: made, sent, sent by the deadline, and
# due (a deadline met or passed, as of the refresh), each with the key of the referrals counted.
REFERRAL_COLUMNS = ("referrals", "sent", "on_time", "due")


def _referral_columns():
    return [
        *(Column(name, Integer, nullable=False, default=0) for name in REFERRAL_COLUMNS),
        *(
            Column(f"{name}_key", BigInteger, nullable=False, default=0)
            for name in REFERRAL_COLUMNS
        ),
    ]


referral_months = Table(
    "stats_referral_months",
    db.metadata,
    Column("month", String(7), primary_key=True),
    Column("school_id", ForeignKey("schools.id", ondelete="CASCADE"), primary_key=True),
    Column("body_kind", String(32), primary_key=True),
    Column("region_id", ForeignKey("regions.id"), nullable=False),
    *_referral_columns(),
    Index("ix_stats_referral_months_region_month", "region_id", "month"),
)

referral_region_months = Table(
    "stats_referral_region_months",
    db.metadata,
    Column("month", String(7), primary_key=True),
    Column("region_id", ForeignKey("regions.id"), primary_key=True),
    Column("body_kind", String(32), primary_key=True),
    *_referral_columns(),
)


OPEN = "open"


def outcome_key():
    """SQL: what a case counts as: its outcome once closed, else "open"."""
    return case((Case.state == CaseState.closed, type_coerce(Case.outcome, String)), else_=OPEN)


refreshed_months = Table(
    "stats_months",
    db.metadata,
    Column("month", String(7), primary_key=True),
    # The first local day the month's totals do not cover (the 1st of the next month once the
    # month is over; today for the current month).
    Column("through", Date, nullable=False),
    Column("refreshed_at", UTCDateTime, nullable=False),
)

RATIO = 1.1


def bucket_of(hours):
    """SQL: the histogram bucket of a response time (minutes 1.1^b to 1.1^(b+1))."""
    minutes = hours * 60
    return case((minutes < 1, 0), else_=func.floor(func.ln(minutes) * (1 / math.log(RATIO))))


def median_from_histogram(counts: dict[int, int]) -> float | None:
    """The median in hours of a histogram {bucket: count}: the middle value (or the mean of the
    two middle values), each placed inside its bucket by its rank there."""
    total = sum(counts.values())
    if not total:
        return None
    if total % 2:
        return _ranked(counts, (total + 1) // 2)
    return (_ranked(counts, total // 2) + _ranked(counts, total // 2 + 1)) / 2


def _ranked(counts: dict[int, int], rank: int) -> float:
    """The value of the ``rank``-th smallest entry (1-based), in hours."""
    seen = 0
    for bucket in sorted(counts):
        n = counts[bucket]
        if seen + n >= rank:
            fraction = (rank - seen - 0.5) / n
            low, high = RATIO**bucket, RATIO ** (bucket + 1)
            minutes = low * (high / low) ** fraction if bucket > 0 else high * fraction
            return minutes / 60
        seen += n
    raise ValueError("rank beyond the histogram")


def value_at_rank(counts: dict[int, int], rank: int) -> float:
    """The value in hours of the ``rank``-th smallest entry (1-based) of a histogram (for other
    percentiles than the median: ``insights.kpis.percentile_from_histogram``)."""
    return _ranked(counts, rank)


# --- which months ------------------------------------------------------------------------------


def _month_start(key: str) -> datetime:
    year, month = (int(part) for part in key.split("-"))
    return datetime.combine(date(year, month, 1), time(), local_zone()).astimezone(UTC)


def _next_month(key: str) -> str:
    year, month = (int(part) for part in key.split("-"))
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return f"{year:04d}-{month:02d}"


def _today(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(local_zone()).date()


def _first_day(key: str) -> date:
    year, month = (int(part) for part in key.split("-"))
    return date(year, month, 1)


def months_to_refresh(now: datetime | None = None) -> list[str]:
    """Every month from the first report's (or case's: a teacher's report may come first) to
    this one."""
    today = _today(now)
    current = f"{today.year:04d}-{today.month:02d}"
    firsts = [
        db.session.scalar(select(func.min(Report.created_at))),
        db.session.scalar(select(func.min(Case.created_at))),
    ]
    first = min((f for f in firsts if f is not None), default=None)
    if first is None:
        return []
    first = first.astimezone(local_zone())
    key, months = f"{first.year:04d}-{first.month:02d}", []
    while key <= current:
        months.append(key)
        key = _next_month(key)
    return months


def marked_months() -> dict[str, date]:
    """{month: the first day its totals do not cover}; read once per request (the reports and
    the cases of a page use the same months)."""
    if has_request_context() and "stats_months" in g:
        return g.stats_months
    rows = db.session.execute(select(refreshed_months.c.month, refreshed_months.c.through))
    marked = {month: through for month, through in rows}
    if has_request_context():
        g.stats_months = marked
    return marked


# --- refresh -----------------------------------------------------------------------------------


def refresh(months: list[str] | None = None, now: datetime | None = None) -> list[str]:
    """Rebuild the totals of these months (default: every month up to this one, which is
    covered up to today); the caller commits."""
    now = now or utcnow()
    months = months_to_refresh(now) if months is None else months
    for key in months:
        _refresh_month(key, now)
    if has_app_context():
        g.pop("stats_months", None)
    return months


def refresh_changed(now: datetime | None = None) -> list[str]:
    """Rebuild only the months whose totals may have changed since they were last made
    (``changed_months``); the caller commits. ``refresh()`` rebuilds every month."""
    now = now or utcnow()
    return refresh(changed_months(now), now)


def changed_months(now: datetime | None = None) -> list[str]:
    """The months whose totals may differ from the live rows: every month never refreshed or
    covered only in part (this month, the month just ended); the months of the reports answered
    and of the cases changed since the last run; the months whose unanswered reports may
    have passed their target since then; and every month whose stored counts no longer match
    its rows (reports or cases added or deleted, priorities changed, answers removed), checked
    by one small aggregate a month. The work grows with the day's changes and the number of
    months, not with the rows of history."""
    now = now or utcnow()
    every = months_to_refresh(now)
    stored = {
        month: (through, refreshed_at)
        for month, through, refreshed_at in db.session.execute(
            select(
                refreshed_months.c.month,
                refreshed_months.c.through,
                refreshed_months.c.refreshed_at,
            )
        )
    }
    changed = {
        key for key in every if key not in stored or stored[key][0] < _first_day(_next_month(key))
    }
    if not stored:
        return every
    # The last run: every change before it was looked at by that run or an earlier one (the
    # months not rebuilt then keep their older marks, so the latest mark is the last run).
    since = max(refreshed_at for _through, refreshed_at in stored.values())

    def month_of(moment: datetime) -> str:
        local = moment.astimezone(local_zone())
        return f"{local.year:04d}-{local.month:02d}"

    # An unanswered report becomes overdue when its target passes: the months of the reports
    # made from the longest target before the last run up to now.
    key = month_of(since - timedelta(hours=max(_target_hours().values(), default=0)))
    while key <= month_of(now):
        changed.add(key)
        key = _next_month(key)
    for (created,) in db.session.execute(
        select(Report.created_at).where(Report.first_response_at >= since)
    ):
        changed.add(month_of(created))
    for (created,) in db.session.execute(select(Case.created_at).where(Case.updated_at >= since)):
        changed.add(month_of(created))

    # Referrals sent, or whose deadline passed, since then.
    for (created,) in db.session.execute(
        select(Referral.created_at).where(
            (Referral.sent_at >= since)
            | ((Referral.deadline_at >= since) & (Referral.deadline_at < now))
        )
    ):
        changed.add(month_of(created))
    changed |= {key for key in every if key not in changed and _differs(key)}
    return [key for key in every if key in changed]


def _differs(key: str) -> bool:
    """True when the stored totals of a month no longer match its reports or cases."""
    begin, end = _month_start(key), _month_start(_next_month(key))
    live = [
        func.count(),
        func.coalesce(func.sum(Report.id), 0),
        *(func.coalesce(func.sum(case((Report.priority == p, 1), else_=0)), 0) for p in Priority),
        *(
            func.coalesce(
                func.sum(
                    case(
                        ((Report.priority == p) & Report.first_response_at.is_not(None), 1),
                        else_=0,
                    )
                ),
                0,
            )
            for p in Priority
        ),
    ]
    names = ["reports", "reports_key"]
    names += [f"reports_{p.value}" for p in Priority] + [f"answered_{p.value}" for p in Priority]
    kept = [func.coalesce(func.sum(region_months.c[name]), 0) for name in names]
    rows = db.session.execute(
        select(*live).where(Report.created_at >= begin, Report.created_at < end)
    ).one()
    totals = db.session.execute(select(*kept).where(region_months.c.month == key)).one()
    if [int(x) for x in rows] != [int(x) for x in totals]:
        return True
    live_cases = db.session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(Case.id), 0),
            func.coalesce(func.sum(case((Case.state == CaseState.closed, Case.id), else_=0)), 0),
        ).where(Case.created_at >= begin, Case.created_at < end)
    ).one()
    kept_cases = db.session.execute(
        select(
            func.coalesce(func.sum(case_region_months.c.n), 0),
            func.coalesce(func.sum(case_region_months.c.n_key), 0),
            func.coalesce(
                func.sum(
                    case(
                        (case_region_months.c.outcome != OPEN, case_region_months.c.n_key),
                        else_=0,
                    )
                ),
                0,
            ),
        ).where(case_region_months.c.month == key)
    ).one()
    if [int(x) for x in live_cases] != [int(x) for x in kept_cases]:
        return True

    live_referrals = db.session.execute(
        select(
            func.count(), func.coalesce(func.sum(Referral.id), 0), func.count(Referral.sent_at)
        ).where(Referral.created_at >= begin, Referral.created_at < end)
    ).one()
    kept_referrals = db.session.execute(
        select(
            *(
                func.coalesce(func.sum(referral_region_months.c[name]), 0)
                for name in ("referrals", "referrals_key", "sent")
            )
        ).where(referral_region_months.c.month == key)
    ).one()
    return [int(x) for x in live_referrals] != [int(x) for x in kept_referrals]


def _refresh_month(key: str, now: datetime) -> None:
    through = min(_first_day(_next_month(key)), _today(now))
    begin = _month_start(key)
    finish = datetime.combine(through, time(), local_zone()).astimezone(UTC)
    in_month = [Report.created_at >= begin, Report.created_at < finish]
    hours = hours_between(Report.created_at, Report.first_response_at)
    targets = case({p.value: span for p, span in _target_hours().items()}, value=Report.priority)
    overdue = awaiting_response_overdue(
        Report.created_at, Report.priority, Report.first_response_at, now
    )

    def when(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    place = func.coalesce(type_coerce(Report.place, String), "none")
    conditions = [None]  # every count is of the reports meeting a condition (None: all)
    conditions += [place == p for p in PLACES]
    conditions += [Report.perpetrator == p for p in Perpetrator]
    form_columns = len(ViolenceForm)
    for p in Priority:
        mine = Report.priority == p
        conditions += [
            mine,
            mine & Report.first_response_at.is_not(None),
            mine & (hours <= targets),
            mine & overdue,
        ]
    columns = [func.count() if c is None else when(c) for c in conditions]
    keys = [key_sum(Report.id, c) for c in conditions]
    base = (
        select(
            literal(key).label("month"),
            Report.school_id.label("school_id"),
            School.region_id.label("region_id"),
            *(c.label(f"c{i}") for i, c in enumerate(columns)),
            *(k.label(f"k{i}") for i, k in enumerate(keys)),
        )
        .join(School, School.id == Report.school_id)
        .where(*in_month)
        .group_by(Report.school_id, School.region_id)
        .subquery()
    )
    forms = (
        select(
            Report.school_id.label("school_id"),
            *(
                when(ReportViolenceForm.form == f).label(f"f{i}")
                for i, f in enumerate(ViolenceForm)
            ),
            *(
                key_sum(Report.id, ReportViolenceForm.form == f).label(f"fk{i}")
                for i, f in enumerate(ViolenceForm)
            ),
        )
        .join(Report, Report.id == ReportViolenceForm.report_id)
        .where(*in_month)
        .group_by(Report.school_id)
        .subquery()
    )
    # Column order of COUNT_COLUMNS: reports, places, perpetrators, forms, then by priority.
    counts = [base.c[f"c{i}"] for i in range(1 + len(PLACES) + len(Perpetrator))]
    counts += [func.coalesce(forms.c[f"f{i}"], 0) for i in range(form_columns)]
    counts += [base.c[f"c{i}"] for i in range(1 + len(PLACES) + len(Perpetrator), len(columns))]
    counts += [base.c[f"k{i}"] for i in range(1 + len(PLACES) + len(Perpetrator))]
    counts += [func.coalesce(forms.c[f"fk{i}"], 0) for i in range(form_columns)]
    counts += [base.c[f"k{i}"] for i in range(1 + len(PLACES) + len(Perpetrator), len(columns))]
    db.session.execute(delete(report_months).where(report_months.c.month == key))
    db.session.execute(delete(region_months).where(region_months.c.month == key))
    db.session.execute(delete(response_hours).where(response_hours.c.month == key))
    db.session.execute(delete(refreshed_months).where(refreshed_months.c.month == key))
    db.session.execute(
        insert(report_months).from_select(
            ["month", "school_id", "region_id", *COUNT_COLUMNS, *KEY_COLUMNS],
            select(base.c.month, base.c.school_id, base.c.region_id, *counts).outerjoin(
                forms, forms.c.school_id == base.c.school_id
            ),
        )
    )
    db.session.execute(
        insert(region_months).from_select(
            ["month", "region_id", *COUNT_COLUMNS, *KEY_COLUMNS],
            select(
                report_months.c.month,
                report_months.c.region_id,
                *(func.sum(report_months.c[name]) for name in (*COUNT_COLUMNS, *KEY_COLUMNS)),
            )
            .where(report_months.c.month == key)
            .group_by(report_months.c.month, report_months.c.region_id),
        )
    )
    bucket = bucket_of(hours).label("bucket")
    db.session.execute(
        insert(response_hours).from_select(
            ["month", "region_id", "priority", "bucket", "n"],
            select(
                literal(key),
                School.region_id,
                type_coerce(Report.priority, String),
                bucket,
                func.count(),
            )
            .join(School, School.id == Report.school_id)
            .where(*in_month, Report.first_response_at.is_not(None))
            .group_by(School.region_id, Report.priority, bucket),
        )
    )
    _refresh_cases(key, begin, finish)
    _refresh_referrals(key, begin, finish, now)
    db.session.execute(
        insert(refreshed_months).values(month=key, through=through, refreshed_at=now)
    )


def referral_measures(now: datetime):
    """SQL: the counts of a group of referrals, and their keys, labelled as the columns of
    ``referral_months`` (the live figures count the same way)."""

    sent = Referral.sent_at.is_not(None)
    has_deadline = Referral.deadline_at.is_not(None)
    on_time = sent & has_deadline & (Referral.sent_at <= Referral.deadline_at)
    due = has_deadline & (sent | (Referral.deadline_at < now))
    return [
        func.count().label("referrals"),
        func.count(Referral.sent_at).label("sent"),
        func.coalesce(func.sum(case((on_time, 1), else_=0)), 0).label("on_time"),
        func.coalesce(func.sum(case((due, 1), else_=0)), 0).label("due"),
        key_sum(Referral.id).label("referrals_key"),
        key_sum(Referral.id, sent).label("sent_key"),
        key_sum(Referral.id, on_time).label("on_time_key"),
        key_sum(Referral.id, due).label("due_key"),
    ]


def _refresh_referrals(key: str, begin: datetime, finish: datetime, now: datetime) -> None:
    """The month's referrals by kind of body, per school and per region."""

    names = [*REFERRAL_COLUMNS, *(f"{n}_key" for n in REFERRAL_COLUMNS)]
    kind = type_coerce(Referral.body_kind, String).label("body_kind")
    db.session.execute(delete(referral_months).where(referral_months.c.month == key))
    db.session.execute(delete(referral_region_months).where(referral_region_months.c.month == key))
    db.session.execute(
        insert(referral_months).from_select(
            ["month", "school_id", "region_id", "body_kind", *names],
            select(
                literal(key), Referral.school_id, School.region_id, kind, *referral_measures(now)
            )
            .join(School, School.id == Referral.school_id)
            .where(Referral.created_at >= begin, Referral.created_at < finish)
            .group_by(Referral.school_id, School.region_id, Referral.body_kind),
        )
    )
    db.session.execute(
        insert(referral_region_months).from_select(
            ["month", "region_id", "body_kind", *names],
            select(
                referral_months.c.month,
                referral_months.c.region_id,
                referral_months.c.body_kind,
                *(func.sum(referral_months.c[n]) for n in names),
            )
            .where(referral_months.c.month == key)
            .group_by(
                referral_months.c.month, referral_months.c.region_id, referral_months.c.body_kind
            ),
        )
    )


def read_referrals(table, conditions, months: list[str]) -> dict[str, dict[str, Tally]]:
    """Referrals of the rolled-up ``months`` by kind of body: {kind: {column: Tally}}, from
    ``referral_months`` (per school) or ``referral_region_months`` (per region)."""
    result = {}
    for row in db.session.execute(
        select(
            table.c.body_kind,
            *(func.sum(table.c[n]).label(n) for n in REFERRAL_COLUMNS),
            *(func.sum(table.c[f"{n}_key"]).label(f"{n}_key") for n in REFERRAL_COLUMNS),
        )
        .where(*conditions, table.c.month.in_(months))
        .group_by(table.c.body_kind)
    ):
        mapping = row._mapping
        result[row.body_kind] = {
            n: Tally(mapping[n], mapping[f"{n}_key"]) for n in REFERRAL_COLUMNS
        }
    return result


def _refresh_cases(key: str, begin: datetime, finish: datetime) -> None:
    """The month's cases by outcome, per school and per region."""
    outcome = outcome_key().label("outcome")
    db.session.execute(delete(case_months).where(case_months.c.month == key))
    db.session.execute(delete(case_region_months).where(case_region_months.c.month == key))
    db.session.execute(
        insert(case_months).from_select(
            ["month", "school_id", "region_id", "outcome", "n", "n_key"],
            select(
                literal(key),
                Case.school_id,
                School.region_id,
                outcome,
                func.count(),
                key_sum(Case.id),
            )
            .join(School, School.id == Case.school_id)
            .where(Case.created_at >= begin, Case.created_at < finish)
            .group_by(Case.school_id, School.region_id, outcome),
        )
    )
    db.session.execute(
        insert(case_region_months).from_select(
            ["month", "region_id", "outcome", "n", "n_key"],
            select(
                case_months.c.month,
                case_months.c.region_id,
                case_months.c.outcome,
                func.sum(case_months.c.n),
                func.sum(case_months.c.n_key),
            )
            .where(case_months.c.month == key)
            .group_by(case_months.c.month, case_months.c.region_id, case_months.c.outcome),
        )
    )


def _target_hours() -> dict:
    from incidents.cases.deadlines import response_targets

    return {p: span.total_seconds() / 3600 for p, span in response_targets().items()}


# --- reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    """A period cut in two: months read from the totals, then the rest counted live."""

    months: list[str]  # months read from the totals, oldest first (the last may be partial)
    live_start: date | None  # the first day counted live (None: nothing left to count live)


def split(start: date, end: date, now: datetime | None = None) -> Split:
    """The months at the start of [start, end] that the totals cover, and the day from which the
    rest is counted live. A month is used whole, or (the current one) up to the day its totals
    reach, and only when the period covers all of that. Months before the first refreshed one
    had no reports when it was refreshed (a refresh covers every month from the first
    report's), so they count as covered and empty."""
    marked = marked_months()
    if start.day != 1 or not marked:
        return Split([], start)
    earliest = min(marked)
    months, day = [], start
    key = f"{start.year:04d}-{start.month:02d}"
    while key in marked or key < earliest:
        month_end = _first_day(_next_month(key))
        through = marked.get(key, month_end)
        if through <= day or through > end + timedelta(days=1):
            break  # nothing covered yet, or the totals reach past the period's end
        months.append(key)
        day = through
        if through < month_end:
            break  # a month covered only in part: the rest of it is counted live
        key = _next_month(key)
    if not months:
        return Split([], start)
    return Split(months, day if day <= end else None)


@dataclass
class Totals:
    """Summed monthly totals: {column: count} overall and per month; per unit (region or school)
    the first-response figures over every priority ({"reports", "answered", "within",
    "overdue"}: ``UNIT_MEASURES``, summed by the database); and response-time histograms
    {(priority, region): {bucket: n}}."""

    overall: dict[str, int]
    by_month: dict[str, dict[str, int]]
    by_unit: dict[int, dict[str, int]]
    histograms: dict[tuple[str, int], dict[int, int]]


def _over_priorities(table, measure: str, suffix: str = ""):
    """SQL: the sum over the rows of a measure's columns of every priority added up."""
    first, *rest = list(Priority)
    total = table.c[f"{measure}_{first.value}{suffix}"]
    for p in rest:
        total = total + table.c[f"{measure}_{p.value}{suffix}"]
    return func.coalesce(func.sum(total), 0)


def read(
    table, conditions, months: list[str], unit_column, histogram_conditions=None, summary=None
) -> Totals:
    """Totals of the rolled-up ``months`` from ``table`` (``report_months`` per school or
    ``region_months`` per region) for the rows matching ``conditions``: every column summed per
    month, and per ``unit_column`` the first-response measures over every priority (summed by
    the database, so a region's ~700 schools come back as eight numbers each). ``summary``
    (``(table, conditions)``): a table holding the same rows already summed (a whole region's
    rows of ``region_months``), read for the months instead of summing ``table`` again.
    Histograms too when ``histogram_conditions`` (on ``response_hours``) are given."""
    by_month, month_conditions = summary or (table, conditions)
    names = (*COUNT_COLUMNS, *KEY_COLUMNS)
    month_rows = db.session.execute(
        select(
            by_month.c.month,
            *(cast(func.coalesce(func.sum(by_month.c[n]), 0), BigInteger).label(n) for n in names),
        )
        .where(*month_conditions, by_month.c.month.in_(months))
        .group_by(by_month.c.month)
    )
    totals = Totals(dict.fromkeys(COUNT_COLUMNS, 0), {}, {}, {})
    pairs = [(name, f"{name}_key") for name in COUNT_COLUMNS]
    for row in month_rows:
        mapping = row._mapping
        counts = {name: Tally(mapping[name], mapping[k]) for name, k in pairs}
        totals.by_month[row.month] = counts
        for name, n in counts.items():
            totals.overall[name] += n
    unit_rows = db.session.execute(
        select(
            unit_column.label("unit"),
            *(
                cast(_over_priorities(table, measure, suffix), BigInteger).label(measure + suffix)
                for measure in UNIT_MEASURES
                for suffix in ("", "_key")
            ),
        )
        .where(*conditions, table.c.month.in_(months))
        .group_by(unit_column)
    )
    for row in unit_rows:
        mapping = row._mapping
        totals.by_unit[row.unit] = {
            m: Tally(mapping[m], mapping[f"{m}_key"]) for m in UNIT_MEASURES
        }
    if histogram_conditions is not None:
        totals.histograms = read_histograms(histogram_conditions, months)
    return totals


def read_histograms(conditions, months: list[str]) -> dict[tuple[str, int], dict[int, int]]:
    """Response-time histograms {(priority, region): {bucket: n}} of the rolled-up ``months``
    for the rows of ``response_hours`` matching ``conditions``."""
    result: dict[tuple[str, int], dict[int, int]] = {}
    for priority, region, bucket, n in db.session.execute(
        select(
            response_hours.c.priority,
            response_hours.c.region_id,
            response_hours.c.bucket,
            func.sum(response_hours.c.n),
        )
        .where(response_hours.c.month.in_(months), *conditions)
        .group_by(response_hours.c.priority, response_hours.c.region_id, response_hours.c.bucket)
    ):
        histogram = result.setdefault((priority, region), {})
        histogram[int(bucket)] = histogram.get(int(bucket), 0) + int(n)
    return result


def read_cases(table, conditions, months: list[str]) -> dict[str, int]:
    """Cases of the rolled-up ``months`` by outcome ("open" for those still open), from
    ``case_months`` (per school) or ``case_region_months`` (per region)."""
    return {
        outcome: Tally(n, key)
        for outcome, n, key in db.session.execute(
            select(table.c.outcome, func.sum(table.c.n), func.sum(table.c.n_key))
            .where(*conditions, table.c.month.in_(months))
            .group_by(table.c.outcome)
        )
    }


def live_histograms(conditions) -> dict[tuple[str, int], dict[int, int]]:
    """The same histograms counted from the reports themselves (for the live months)."""
    hours = hours_between(Report.created_at, Report.first_response_at)
    bucket = bucket_of(hours).label("bucket")
    result: dict[tuple[str, int], dict[int, int]] = {}
    for priority, region, key, n in db.session.execute(
        select(type_coerce(Report.priority, String), School.region_id, bucket, func.count())
        .join(School, School.id == Report.school_id)
        .where(*conditions, Report.first_response_at.is_not(None))
        .group_by(Report.priority, School.region_id, bucket)
    ):
        result.setdefault((priority, region), {})[int(key)] = int(n)
    return result
