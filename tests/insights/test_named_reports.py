"""Teachers' named reports in the analysts' figures by form of violence (issue 20): counted on a
line of their own (not added to the children's reports), in the analyst's scope only, with the
same published numbers whether the month comes from the monthly totals or is counted live,
and with keys that never meet a child's report of the same id."""

from datetime import timedelta

from core.model_types import utcnow
from extensions import db
from incidents.intake.models import Perpetrator, Place, ViolenceForm, WhenHappened
from incidents.teacher.named_report import file_teacher_report
from insights import named_reports, rollup
from insights.dashboard import month_label
from insights.figures import live_figures, report_figures
from insights.filters import Filters, default_period
from school.models import Role
from tests import factories
from tests.insights import factories as f


def teacher_report(school, forms, days_ago: int = 40):
    teacher = factories.user(Role.teacher, school)
    report = file_teacher_report(
        teacher,
        forms=forms,
        perpetrator=Perpetrator.students,
        place=Place.yard,
        happened=WhenHappened.this_week,
        classroom=None,
        is_danger_now=False,
        description="Үзілісте итеріп жіберді.",
    )
    report.created_at = utcnow() - timedelta(days=days_ago)
    db.session.commit()
    return report


def counts(rows) -> dict:
    return {c.key: (int(c.count), getattr(c.count, "key", 0)) for c in rows if c.count}


def test_a_teachers_report_is_counted_by_form_on_its_own_line(app):
    school = factories.school("Named 1", region_code="KZ-75")
    other = factories.school("Named 2", region_code="KZ-71")
    child = f.report(school, utcnow() - timedelta(days=40), [ViolenceForm.physical])
    made = teacher_report(school, [ViolenceForm.physical, ViolenceForm.verbal])
    teacher_report(other, [ViolenceForm.sexual])
    analyst = factories.user(Role.analyst, region_=factories.region("KZ-75"))
    start, end = default_period()
    figures = report_figures(analyst, Filters(start, end), month_label)

    assert counts(figures.teacher_by_form) == {
        "physical": (1, made.id + named_reports.KEY_OFFSET),
        "verbal": (1, made.id + named_reports.KEY_OFFSET),
    }  # the other region's report is out of this analyst's scope
    # The children's line is unchanged, and the same id never gives the same key.
    assert counts(figures.by_form) == {"physical": (1, child.id)}
    assert made.id + named_reports.KEY_OFFSET != child.id
    # A filter on a form counts only the teacher's reports naming it.
    only = report_figures(analyst, Filters(start, end, form=ViolenceForm.sexual), month_label)
    assert counts(only.teacher_by_form) == {}


def test_refreshed_months_give_the_same_teacher_figures_as_counting_live(app, runner):
    school = factories.school("Named 3", region_code="KZ-75")
    for days in (40, 70, 100):
        f.report(school, utcnow() - timedelta(days=days), [ViolenceForm.verbal])
        teacher_report(school, [ViolenceForm.verbal, ViolenceForm.cyberbullying], days)
    analyst = factories.user(Role.analyst)
    start, end = default_period()
    filters = Filters(start, end)
    live = report_figures(analyst, filters, month_label)
    assert live_figures(analyst, filters, month_label).teacher_by_form == []  # set by the page
    result = runner.invoke(args=["insights", "refresh-stats", "--full"])
    assert result.exit_code == 0, result.output
    assert rollup.split(start, end).months  # the page now reads the totals
    from_totals = report_figures(analyst, filters, month_label)
    assert counts(from_totals.teacher_by_form) == counts(live.teacher_by_form)
    assert counts(from_totals.teacher_by_form)["verbal"][0] == 3


def test_the_csv_and_the_page_carry_the_teachers_line(app, client, login):
    school = factories.school("Named 4", region_code="KZ-75")
    teacher_report(school, [ViolenceForm.physical])
    analyst = factories.user(Role.analyst)
    login(analyst)
    page = client.get("/insights/", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert "Teachers’ named reports by form of violence" in page.get_data(as_text=True)
    csv = client.get("/insights/export.csv")
    assert csv.status_code == 200
    assert "teacher_reports_by_form" in csv.get_data(as_text=True)
