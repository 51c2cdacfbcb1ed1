"""The KPI figures as CSV, one row per measure."""

from __future__ import annotations

import csv
import io

from flask_babel import gettext as _

from insights.filters import Level
from insights.kpis.evidence import Evidence
from insights.kpis.staffing import per_counselor
from insights.stats import (
    MEDIAN_MIN_ANSWERS,
    shown_count,
    shown_share,
)

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
