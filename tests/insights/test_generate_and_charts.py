"""Synthetic data at scale, the demo surveys, and charts that can be read without seeing them."""

import re

import pytest
from sqlalchemy import func, select

from extensions import db
from incidents.intake.models import Report, ReportViolenceForm
from insights.charts import LABEL_WIDTH, Bar, bar_chart, column_chart
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


def test_a_chart_has_a_title_a_description_and_marks_a_hidden_bar():
    svg = str(
        bar_chart(
            "c1",
            "Reports by <place>",
            "Where it happened",
            [Bar("Yard", 12, "12"), Bar("Toilet", 0, "0–4", hidden=True)],
        )
    )
    assert 'role="img"' in svg and 'aria-labelledby="c1-t c1-d"' in svg
    assert '<title id="c1-t">Reports by &lt;place&gt;</title>' in svg
    assert '<desc id="c1-d">Where it happened</desc>' in svg
    # The hidden count keeps its row: a dashed placeholder, not a bar, with its text.
    (placeholder,) = re.findall(r'<rect class="hidden-count"[^>]*>', svg)
    assert 'stroke-dasharray="3 2"' in placeholder and 'fill="none"' in placeholder
    assert len(re.findall(r"<rect ", svg)) == 2 and "Toilet" in svg and "0–4" in svg


@pytest.mark.parametrize(
    ("values", "ticks"),
    [
        ([0, 0, 0], ["0", "1", "2"]),
        ([1, 0, 0], ["0", "1", "2"]),
        ([3], ["0", "2", "4"]),
        ([5, 0], ["0", "5", "10"]),
        ([15, 5], ["0", "10", "20"]),
        ([45], ["0", "25", "50"]),
        ([130], ["0", "100", "200"]),
    ],
)
def test_a_column_charts_axis_is_whole_distinct_numbers(values, ticks):
    """Issue 20: the PDF's month chart read 1 / 0 / 0 (its top was 1, its middle rounded)."""
    bars = [Bar(f"m{i}", v, str(v)) for i, v in enumerate(values)]
    svg = str(column_chart("c2", "Months", "Reports each month", bars))
    assert re.findall(r'text-anchor="end" fill="[^"]+">(\d+)</text>', svg) == ticks


def test_month_labels_of_a_long_period_never_share_their_room():
    """Thirteen months to five years: each label written gets at least the room of a short month
    name, and the year is written once where it changes, on its own line."""
    for months in (12, 13, 24, 37, 60):
        bars = [
            Bar(f"m{i}", i % 7, str(i % 7), axis=("сент.", str(2021 + i // 12)))
            for i in range(months)
        ]
        svg = str(column_chart("c3", "Months", "Reports each month", bars))
        xs = [float(x) for x in re.findall(r'<text x="([\d.]+)" y="196"', svg)]
        assert xs and all(b - a >= LABEL_WIDTH for a, b in zip(xs, xs[1:], strict=False)), months
        years = re.findall(r'y="210"[^>]*>(\d{4})</text>', svg)
        assert years == sorted(set(years)), years


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
