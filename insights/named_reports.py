"""Teachers' named reports (mandatory reporting) by form of violence: a figure of its own.

They are not added to the children's reports by form: a teacher usually reports what a child
also reported (or will), so a sum would count one incident twice and mix two sources an
analyst reads differently (what children say, what adults saw). They are counted live: a
teacher's report is far rarer than a child's, and a page filtered the same way counts the same
rows, so the same published numbers (``Tally``, keyed by ``KEY_OFFSET`` + the report's id, so
that a teacher's report never gives the key of a child's report with the same id).
"""

from __future__ import annotations

from sqlalchemy import func, select

from extensions import db
from incidents.cases.models import TeacherReport, TeacherReportForm
from incidents.intake.models import ViolenceForm
from insights.filters import Filters
from insights.sql import key_sum
from insights.stats import Count, Tally
from school.access import school_scope
from school.models import School, User

# Added to a teacher report's id in its key: ids below 2**40 of either kind never meet, and a
# sum over a million of them stays inside a 64-bit integer.
KEY_OFFSET = 2**40


def conditions(user: User, filters: Filters) -> list:
    """The teachers' reports a dashboard counts: the user's scope, the period, the place, the
    form (as ``insights.figures.report_conditions`` for the children's)."""
    begin, finish = filters.utc_range()
    where = [
        school_scope(user, TeacherReport.school_id),
        TeacherReport.created_at >= begin,
        TeacherReport.created_at < finish,
    ]
    if filters.school_id is not None:
        where.append(TeacherReport.school_id == filters.school_id)
    elif filters.region_id is not None:
        where.append(
            TeacherReport.school_id.in_(
                select(School.id).where(School.region_id == filters.region_id)
            )
        )
    if filters.form is not None:
        where.append(
            TeacherReport.id.in_(
                select(TeacherReportForm.teacher_report_id).where(
                    TeacherReportForm.form == filters.form
                )
            )
        )
    return where


def by_form(user: User, filters: Filters) -> list:
    """One count per form of violence (a report naming two forms counts under each)."""

    stmt = (
        select(
            TeacherReportForm.form,
            func.count(),
            key_sum(TeacherReport.id),
        )
        .join(TeacherReport, TeacherReport.id == TeacherReportForm.teacher_report_id)
        .where(*conditions(user, filters))
        .group_by(TeacherReportForm.form)
    )
    # The offset is added here, once per report, not in SQL (an id plus 2**40 overflows an
    # INTEGER column's type on PostgreSQL).
    totals = {
        ViolenceForm(form).value: Tally(n, int(key) + n * KEY_OFFSET)
        for form, n, key in db.session.execute(stmt)
    }
    return [Count(f.value, f.title, totals.get(f.value, Tally())) for f in ViolenceForm]
