"""The charts of a dashboard and of survey results, built from the same numbers as the tables."""

from __future__ import annotations

from datetime import date

from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from insights.charts import Bar, Interval, bar_chart, column_chart, interval_chart
from insights.dashboard import Dashboard, share_text
from insights.figures import Count
from insights.results import KINDS, SurveyResults

SURVEY_CHART_ITEMS = {
    "victim": _l("Was bullied or hurt"),
    "perpetrator": _l("Bullied or hurt others"),
    "by_adults": _l("Hurt by adults at school"),
    "feel_safe": _l("Feel safe at school often or always"),
    "would_tell": _l("Would tell an adult at school"),
}


HALF = 400  # the width of a chart in one of two columns


HIDDEN_TEXT = "0–4"


def _bar(board: Dashboard, c: Count, axis: tuple[str, str] | None = None) -> Bar:
    """One row of a table as a bar: the same rows as the table, none lost. A count published as
    0 (analysts: it may stand for 1 to 4) is a marked placeholder, not an empty place."""
    shown = board.shown(c.count)
    if board.suppress and shown == 0:
        return Bar(c.label, 0, HIDDEN_TEXT, hidden=True, axis=axis)
    return Bar(c.label, shown, board.count(c.count), axis=axis)


def _bars(board: Dashboard, counts: list[Count]) -> list[Bar]:
    return [_bar(board, c) for c in counts]


def _month_axis(key: str) -> tuple[str, str]:
    """A month's label on the axis in two lines: its short name and its year."""
    year, month = (int(part) for part in key.split("-"))
    return format_date(date(year, month, 1), "LLL"), str(year)


def dashboard_charts(board: Dashboard) -> dict[str, Markup]:
    r = board.reports
    place = board.place_name
    charts = {
        "by_month": column_chart(
            "chart-month",
            _("Reports per month"),
            _(
                "Reports received each month in %(place)s; the table below has the numbers.",
                place=place,
            ),
            [_bar(board, c, _month_axis(c.key)) for c in r.by_month],
        ),
        "by_form": bar_chart(
            "chart-form",
            _("Reports by form of violence"),
            _("A report may name several forms, so the bars add up to more than the reports."),
            _bars(board, r.by_form),
        ),
        "by_place": bar_chart(
            "chart-place",
            _("Reports by place"),
            _("Where it happened, as the student told it."),
            _bars(board, r.by_place),
            HALF,
        ),
        "by_perpetrator": bar_chart(
            "chart-perpetrator",
            _("Reports by who did it"),
            _("Who did it, as the student told it."),
            _bars(board, r.by_perpetrator),
            HALF,
        ),
    }
    if board.cases is not None:
        charts["cases"] = bar_chart(
            "chart-cases",
            _("Cases by outcome"),
            _("Cases opened in the period: closed ones by outcome, and those still open."),
            _bars(board, board.cases.rows),
            HALF,
        )
        charts["referrals"] = bar_chart(
            "chart-referrals",
            _("Referrals by authorized body"),
            _("Referrals made in the period, by the kind of body they went to."),
            _bars(board, [Count(r.key, r.label, r.referrals) for r in board.referrals]),
            HALF,
        )
    return charts


def survey_chart(result: SurveyResults, ident: str) -> Markup | None:
    """Baseline and follow-up shares of the main measures, with their 95% intervals."""
    if not result.any_shown:
        return None
    rows = []
    for item, label in SURVEY_CHART_ITEMS.items():
        indicator = result.indicator(item)
        if indicator is None:
            continue
        intervals = []
        for kind in KINDS:
            share = indicator.shares[kind]
            intervals.append(
                Interval(
                    kind.short_title,
                    share.value if share else None,
                    share.low if share else None,
                    share.high if share else None,
                    share_text(share),
                )
            )
        rows.append((str(label), intervals))
    return interval_chart(
        ident,
        _("Survey: baseline and follow-up"),
        _(
            "Shares of students with %(level)s intervals, before and after the program; the table"
            " below has every measure.",
            level="95%",
        ),
        rows,
    )
