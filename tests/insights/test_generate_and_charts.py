"""Synthetic data at scale, the demo surveys, and charts that can be read without seeing them."""

import re

from sqlalchemy import func, select

from extensions import db
from incidents.intake.models import Report, ReportViolenceForm
from insights.charts import Bar, bar_chart
from insights.models import SurveyResponse, SurveyTally, SurveyWave
from insights.synthetic.reports import region_counts
from school.models import Region, Role, School
from tests import factories


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_generate_command_makes_consistent_synthetic_data(app, runner, client, login):
    result = runner.invoke(
        args=["insights", "generate", "--reports", "600", "--schools", "20", "--seed", "3"]
    )
    assert result.exit_code == 0, result.output
    assert count(Report) == 600
    forms = count(ReportViolenceForm)
    assert 600 <= forms <= 1200  # one or two forms each
    assert count(School) == 20
    assert db.session.scalar(select(func.count()).where(School.name.like("%(synthetic)"))) == 20
    # Reports carry no text; answered ones are answered after they came in.
    assert db.session.scalar(select(func.count()).where(Report.description != "")) == 0
    late = db.session.scalar(
        select(func.count()).where(Report.first_response_at < Report.created_at)
    )
    assert late == 0
    # The survey totals agree with the stored answers.
    waves = db.session.scalar(select(func.count(SurveyWave.id)))
    assert waves >= 4
    answered = db.session.scalar(select(func.sum(SurveyWave.answered)))
    assert answered == count(SurveyResponse)
    assert db.session.scalar(select(func.count()).select_from(SurveyTally)) > 0
    # A second run adds to the first (new schools, new ids).
    again = runner.invoke(args=["insights", "generate", "--reports", "100", "--schools", "3"])
    assert again.exit_code == 0, again.output
    assert count(Report) == 700
    # The national dashboard works on it.
    login(factories.user(Role.analyst))
    assert client.get("/insights/").status_code == 200


def test_generate_makes_the_same_country_whatever_the_number_of_reports(app, runner):
    """Growth is measured with the schools fixed: 7,500 of them, Almaty ~700 and Astana ~300,
    whether there are 50 reports or a million (not one school per 130 reports)."""
    result = runner.invoke(
        args=["insights", "generate", "--reports", "50", "--survey-share", "0", "--seed", "1"]
    )
    assert result.exit_code == 0, result.output
    assert count(School) == 7500
    by_region = dict(
        db.session.execute(
            select(Region.iso_code, func.count(School.id))
            .join(School, School.region_id == Region.id)
            .group_by(Region.iso_code)
        ).all()
    )
    assert by_region["KZ-75"] == 700  # Almaty
    assert by_region["KZ-71"] == 300  # Astana
    assert len(by_region) == 20
    # A smaller country keeps the proportions and adds up exactly.
    for size in (1, 19, 20, 37, 1001):
        assert sum(region_counts(size).values()) == size


def test_seed_demo_adds_survey_waves_once(app, runner):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    waves = count(SurveyWave)
    responses = count(SurveyResponse)
    assert waves >= 4 and responses >= 80
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    assert (count(SurveyWave), count(SurveyResponse)) == (waves, responses)


def test_a_chart_has_a_title_a_description_and_hides_small_bars():
    svg = str(
        bar_chart(
            "c1",
            "Reports by <place>",
            "Where it happened",
            [Bar("Yard", 12, "12"), Bar("Toilet", 0, "<5", hidden=True)],
        )
    )
    assert 'role="img"' in svg and 'aria-labelledby="c1-t c1-d"' in svg
    assert '<title id="c1-t">Reports by &lt;place&gt;</title>' in svg
    assert '<desc id="c1-d">Where it happened</desc>' in svg
    assert len(re.findall(r"<rect ", svg)) == 1  # no bar for the hidden count
    assert "&lt;5" in svg


def test_every_chart_on_the_dashboard_has_a_table_under_it(client, login, app):
    school = factories.school("Chart School")
    login(factories.user(Role.school_admin, school))
    html = client.get("/insights/").get_data(as_text=True)
    figures = re.findall(r"<figure>(.*?)</figure>\s*(<div class=\"table-wrap\")?", html, re.S)
    assert len(figures) >= 4
    for svg, _table in figures:
        assert "<title" in svg and "<desc" in svg
    missing = [svg[:80] for svg, table in figures if not table]
    assert not missing
