"""The KPI page's figures together (``Evidence``) and how they are shown."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from flask_babel import gettext as _

from core.config import default
from insights.dashboard import format_decimal, format_percent, place_name, suppresses
from insights.filters import Filters
from insights.kpis.coverage import ClassCoverage, class_coverage
from insights.kpis.outcomes import BeforeAfter, before_after, verdict
from insights.kpis.referrals import (
    ReferralRow,
    Reopened,
    referral_answer_days,
    referral_answers,
    reopened_cases,
)
from insights.kpis.response import (
    DayNightRow,
    ResponseRow,
    response_by_day_and_night,
    response_times,
)
from insights.kpis.signal import SchoolSignal, under_reporting
from insights.kpis.staffing import CaseloadRow, caseload, per_counselor
from insights.stats import (
    MEDIAN_MIN_ANSWERS,
    Public,
    shown_count,
    shown_share,
)
from school.models import User


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
