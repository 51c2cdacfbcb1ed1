"""A dashboard: every figure for one user and one set of filters, and its CSV form.

The page, the CSV export and the PDF report are all drawn from the same ``Dashboard``, so they
cannot disagree; every count an analyst or an export sees is published by
``insights.stats.shown_count`` (a multiple of 5, rounded up or down by a keyed draw), and every share is worked out from
the published counts (``insights.stats.shown_share``).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from babel import numbers
from flask_babel import format_date, get_locale
from flask_babel import gettext as _

from extensions import db
from insights import casework
from insights.figures import Count, ReportFigures, Timeliness, report_figures, with_unit_medians
from insights.filters import Filters, Level
from insights.models import SurveyWave, WaveKind
from insights.results import KINDS, SurveyResults, survey_results, unit_prevalence, wave_conditions
from insights.stats import MEDIAN_MIN_ANSWERS, Share, shown_count, shown_share
from school.models import Permission, Region, School, User


# A region's pages format a few thousand numbers, most of them the same few (published counts are
# multiples of 5): each is formatted once per locale and pattern (Babel's formatting is slow).
@lru_cache(maxsize=16384)
def _formatted(value, pattern: str | None, locale: str, percent: bool) -> str:
    if percent:
        return numbers.format_percent(value, pattern, locale=locale)
    return numbers.format_decimal(value, pattern, locale=locale)


def format_decimal(value, format: str | None = None) -> str:  # noqa: A002 - Flask-Babel's name
    """Flask-Babel's ``format_decimal`` (the current locale), kept per value."""
    return _formatted(value, format, str(get_locale()), False)


def format_percent(value, format: str | None = None) -> str:  # noqa: A002 - Flask-Babel's name
    """Flask-Babel's ``format_percent`` (the current locale), kept per value."""
    return _formatted(value, format, str(get_locale()), True)


def suppresses(user: User, export: bool = False) -> bool:
    """Analysts and every export see published counts (``insights.stats.published_count``);
    staff of a school and the platform administrator see exact counts on the page."""
    return export or not user.can(Permission.read_exact_counts)


def month_label(key: str) -> str:
    year, month = (int(part) for part in key.split("-"))
    return format_date(date(year, month, 1), "LLL yyyy")


@dataclass
class Dashboard:
    user: User
    filters: Filters
    suppress: bool
    reports: ReportFigures
    cases: casework.CaseFigures | None
    referrals: list[casework.ReferralFigure]
    coverage: casework.CoverageFigure | None
    survey: SurveyResults
    survey_units: list = field(default_factory=list)
    place_name: str = ""

    @property
    def level(self) -> str:
        return self.filters.level

    # --- how numbers are shown (one place) ---------------------------------------------------
    def shown(self, n: int) -> int:
        """The count as this user sees it (``shown_count``): what a chart's bar shows, and
        whether a row is listed at all (a row of 0 is left out like a row of nothing)."""
        return shown_count(n, self.suppress)

    def count(self, n: int) -> str:
        return format_decimal(self.shown(n))

    def share(self, part: int, whole: int) -> str:
        """A share of ``whole`` (``shown_share``); "—" when it is not given."""
        value = shown_share(part, whole, self.suppress)
        return "—" if value is None else format_percent(value, "#,##0.0%")

    def timeliness_share(self, t: Timeliness) -> str:
        return self.share(t.within, t.due)

    def median(self, t: Timeliness) -> str:
        if t.median_hours is None or (self.suppress and t.answered < MEDIAN_MIN_ANSWERS):
            return "—"
        return _("%(hours)s h", hours=format_decimal(t.median_hours, "#,##0.0"))


def percent(value: float) -> str:
    return format_percent(value, "#,##0.0%")


def share_text(share: Share | None) -> str:
    if share is None:
        return "—"
    return _(
        "%(share)s (%(low)s–%(high)s)",
        share=percent(share.value),
        low=percent(share.low),
        high=percent(share.high),
    )


def change_text(change) -> str:
    if change is None:
        return "—"
    return _(
        "%(change)s (%(low)s to %(high)s)",
        change=_signed(change.value),
        low=_signed(change.low),
        high=_signed(change.high),
    )


def _signed(value: float) -> str:
    points = format_decimal(abs(value) * 100, "#,##0.0")
    if round(value * 1000) == 0:
        return _("%(points)s pp", points=points)
    if value > 0:
        return _("+%(points)s pp", points=points)
    return _("−%(points)s pp", points=points)


ATTENTION_ROWS = 20  # schools listed on a region's page before "show all"


def attention_first(board: Dashboard, limit: int | None = -1) -> list[Timeliness]:
    """A region's schools as its page lists them: those that need attention first (the lowest
    share answered within target, then the most reports), at most ``limit`` of them. The order
    is drawn only from what the row shows (the shares and counts as this user sees them), so it
    tells nothing the table does not. The CSV and the PDF keep every school."""

    def key(t: Timeliness):
        share = shown_share(t.within, t.due, board.suppress)
        return (share is None, share or 0.0, -board.shown(t.reports), t.label)

    rows = sorted(board.reports.by_unit, key=key)
    limit = ATTENTION_ROWS if limit == -1 else limit
    return rows if limit is None else rows[:limit]


def place_name(filters: Filters) -> str:
    if filters.school_id is not None:
        return db.session.get(School, filters.school_id).name
    if filters.region_id is not None:
        return db.session.get(Region, filters.region_id).name
    return _("Kazakhstan")


def build(user: User, filters: Filters, export: bool = False, all_units: bool = True) -> Dashboard:
    """Every figure of the page. ``all_units`` False (a region's page, not exported): only the
    schools the page lists (``attention_first``) get their exact medians, one small statement
    over their reports instead of a percentile over the whole region's."""
    listed_only = filters.level == Level.region and not (export or all_units)
    reports = report_figures(user, filters, month_label, unit_medians=not listed_only)
    waves = wave_conditions(
        user,
        school_id=filters.school_id,
        region_id=filters.region_id,
        start=filters.start,
        end=filters.end,
    )
    survey_units, answers = [], None
    if filters.level != Level.school:
        column = School.region_id if filters.level == Level.country else SurveyWave.school_id
        survey_units = unit_prevalence(waves, column, filters.level)
        # The answers in all are those of the units added up: no statement of their own.
        answers = {kind: sum(u.answers.get(kind, 0) for u in survey_units) for kind in KINDS}
    survey = survey_results(waves, answers)
    suppress = suppresses(user, export)
    if suppress:
        # A region or school is listed when its published count is not 0, in the order of the
        # published counts: listing one at 0, or before another of the same published count,
        # would tell that it has reports, or more of them.
        reports.by_unit = sorted(
            (t for t in reports.by_unit if shown_count(t.reports, True)),
            key=lambda t: (-shown_count(t.reports, True), t.label),
        )
    cases = casework.case_figures(user, filters)
    board = Dashboard(
        user=user,
        filters=filters,
        suppress=suppress,
        reports=reports,
        cases=cases,
        referrals=casework.referral_figures(user, filters),
        coverage=casework.coverage_figure(user, filters),
        survey=survey,
        survey_units=survey_units,
        place_name=place_name(filters),
    )
    if listed_only and not reports.unit_medians:
        listed = {t.key for t in attention_first(board)}
        medians = {
            t.key: t
            for t in with_unit_medians(
                user, filters, [t for t in reports.by_unit if t.key in listed]
            )
        }
        reports.by_unit = [medians.get(t.key, t) for t in reports.by_unit]
    return board


# --- CSV ----------------------------------------------------------------------------------------

CSV_HEADER = ["figure", "key", "label", "measure", "value"]


def csv_rows(board: Dashboard) -> list[list[str]]:
    """Long format: one number per line, as published (exports always suppress: counts rounded
    to a multiple of 5 by ``published_count``, shares from the published counts)."""
    rows: list[list[str]] = []
    count = lambda n: str(shown_count(n, True))  # noqa: E731 - one-line formatter
    given = lambda n: shown_count(n, True) > 0  # noqa: E731 - a row of 0 is left out

    def add(figure: str, key: str, label: str, measure: str, value) -> None:
        rows.append([figure, key, _cell(str(label)), measure, "" if value is None else str(value)])

    def ratio(part: int, whole: int) -> str | None:
        value = shown_share(part, whole, True)
        return None if value is None else f"{value:.4f}"

    r = board.reports
    add("reports", "all", _("All reports"), "reports", count(r.total))
    for c in r.by_month:
        add("reports_by_month", c.key, c.label, "reports", count(c.count))
    for month, forms in r.month_form.items():
        for form, n in sorted(forms.items()):
            if given(n):
                add("reports_by_month_and_form", f"{month}/{form}", month, "reports", count(n))
    for name, counts in (
        ("reports_by_form", r.by_form),
        ("teacher_reports_by_form", r.teacher_by_form),
        ("reports_by_place", r.by_place),
        ("reports_by_perpetrator", r.by_perpetrator),
    ):
        for c in counts:
            add(name, c.key, c.label, "reports", count(c.count))
    timeliness_rows = [("first_response", "all", _("All reports"), r.timeliness)] + [
        ("first_response_by_priority", t.key, t.label, t) for t in r.by_priority
    ]
    unit_figure = "by_region" if board.level == Level.country else "by_school"
    timeliness_rows += [(unit_figure, t.key, t.label, t) for t in r.by_unit]
    for figure, key, label, t in timeliness_rows:
        if t is None:
            continue
        add(figure, key, label, "reports", count(t.reports))
        add(figure, key, label, "answered", count(t.answered))
        add(figure, key, label, "within_target_share", ratio(t.within, t.due))
        median = None
        if t.median_hours is not None and t.answered >= MEDIAN_MIN_ANSWERS:
            median = f"{t.median_hours:.2f}"
        add(figure, key, label, "median_hours", median)
    if board.cases is not None:
        for c in board.cases.rows:
            add("cases_by_outcome", c.key, c.label, "cases", count(c.count))
    for ref in board.referrals:
        add("referrals_by_body", ref.key, ref.label, "referrals", count(ref.referrals))
        add("referrals_by_body", ref.key, ref.label, "sent", count(ref.sent))
        add("referrals_by_body", ref.key, ref.label, "on_time_share", ratio(ref.on_time, ref.due))
    if board.coverage is not None:
        cov = board.coverage
        add("lesson_coverage", "all", _("Classes"), "classes", count(cov.classes))
        add("lesson_coverage", "all", _("Classes"), "classes_started", count(cov.classes_started))
        add("lesson_coverage", "all", _("Classes"), "lessons_delivered_share", cov.lesson_share)
    for kind in KINDS:
        add("survey", "answers", kind.title, kind.value, count(board.survey.answers.get(kind, 0)))
    for _key, _title, indicators in board.survey.groups:
        for ind in indicators:
            for kind in KINDS:
                share = ind.shares[kind]
                for measure, value in (
                    ("share", share and f"{share.value:.4f}"),
                    ("low", share and f"{share.low:.4f}"),
                    ("high", share and f"{share.high:.4f}"),
                    ("answers", share and str(share.n)),
                ):
                    add("survey", ind.item, ind.title, f"{kind.value}_{measure}", value)
            change = ind.change
            add("survey", ind.item, ind.title, "change", change and f"{change.value:.4f}")
            add("survey", ind.item, ind.title, "change_low", change and f"{change.low:.4f}")
            add("survey", ind.item, ind.title, "change_high", change and f"{change.high:.4f}")
    return rows


def _cell(text: str) -> str:
    """A name that a spreadsheet would read as a formula is kept as text."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# UTF-8's byte-order mark: without it Excel on Windows reads the file in the system's code page
# and garbles the Cyrillic names; every CSV reader that knows UTF-8 skips it.
BOM = "\ufeff"


def to_csv(board: Dashboard) -> str:
    """The figures as CSV, starting with the byte-order mark (``BOM``)."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    writer.writerows(csv_rows(board))
    return out.getvalue()


__all__ = ["Count", "Dashboard", "WaveKind", "build", "to_csv"]
