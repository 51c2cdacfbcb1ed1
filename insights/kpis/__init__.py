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
The figures live by what they are about, and this package's names are the ones callers use:

- ``places``: where and when (the school or region, the period) every figure starts from;
- ``response``: time to first human response, by priority and by day and night;
- ``staffing``: caseload per school psychologist;
- ``referrals``: referrals answered in time, reopened cases;
- ``coverage``: lesson coverage per class;
- ``signal``: the under-reporting signal;
- ``outcomes``: before and after the lessons;
- ``evidence``: the page's figures together (``build``) and how they are shown;
- ``export``: the CSV.
"""

from insights.kpis.coverage import ClassCoverage, class_coverage
from insights.kpis.evidence import Evidence, build
from insights.kpis.export import csv_rows, to_csv
from insights.kpis.outcomes import BeforeAfter, before_after, verdict
from insights.kpis.referrals import ReferralRow, Reopened, referral_answers, reopened_cases
from insights.kpis.response import (
    DayNightRow,
    ResponseRow,
    grouped_percentiles,
    percentile_from_histogram,
    response_by_day_and_night,
    response_times,
)
from insights.kpis.signal import (
    FLAG_PREVALENCE,
    FLAG_REPORTS_PER_100,
    SchoolSignal,
    is_flagged,
    most_reports,
    under_reporting,
)
from insights.kpis.staffing import NORM_STUDENTS_PER_COUNSELOR, CaseloadRow, caseload, per_counselor
from insights.stats import newcombe

__all__ = [
    "FLAG_PREVALENCE",
    "FLAG_REPORTS_PER_100",
    "NORM_STUDENTS_PER_COUNSELOR",
    "BeforeAfter",
    "CaseloadRow",
    "ClassCoverage",
    "DayNightRow",
    "Evidence",
    "ReferralRow",
    "Reopened",
    "ResponseRow",
    "SchoolSignal",
    "before_after",
    "build",
    "caseload",
    "class_coverage",
    "csv_rows",
    "grouped_percentiles",
    "is_flagged",
    "most_reports",
    "newcombe",
    "per_counselor",
    "percentile_from_histogram",
    "referral_answers",
    "reopened_cases",
    "response_by_day_and_night",
    "response_times",
    "to_csv",
    "under_reporting",
    "verdict",
]
