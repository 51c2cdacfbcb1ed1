"""Statistics by role: a school sees itself, an analyst their region or the country, counts
published by the rule of ``insights.stats`` to analysts and in exports, never a case or a
narrative; CSV and PDF agree with the page."""

import csv
import io
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
from flask_babel import force_locale
from pypdf import PdfReader

from core.model_types import utcnow
from core.opaque import opaque
from extensions import db
from incidents.intake.models import Perpetrator, Place, Priority, Report, ViolenceForm
from insights.figures import report_conditions, timeliness
from insights.filters import Filters
from insights.models import WaveKind
from insights.stats import Tally, published_count
from school.models import Role
from tests import factories
from tests.insights import factories as f

SECRET = "SECRET NARRATIVE ABOUT A CHILD"


class Tables(HTMLParser):
    """Every <table> of a page as {caption: {first cell: [other cells]}} (first row wins)."""

    def __init__(self, html: str):
        super().__init__()
        self.tables: dict[str, dict[str, list[str]]] = {}
        self._caption = self._row = self._cell = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "caption":
            self._caption = ""
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = ""

    def handle_endtag(self, tag):
        if tag == "caption":
            self._current = self._caption.strip()
            self.tables[self._current] = {}
            self._caption = None
        elif tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join(self._cell.split()))
            self._cell = None
        elif tag == "tr" and self._row:
            self.tables[self._current].setdefault(self._row[0], self._row[1:])
            self._row = None

    def handle_data(self, data):
        if self._caption is not None:
            self._caption += data
        elif self._cell is not None:
            self._cell += data


def shown(**match) -> str:
    """What an analyst and an export must see of the reports matching ``match`` (school, form,
    place, perpetrator, priority, answered): the rows picked here one by one in Python, and the
    published rule of ``insights.stats`` applied to their count and ids (the page counts them
    in SQL, from the reports or the monthly totals)."""
    rows = [r for r in db.session.scalars(db.select(Report)) if _matches(r, match)]
    return str(published_count(Tally(len(rows), sum(r.id for r in rows))))


def _matches(report: Report, match: dict) -> bool:
    for name, value in match.items():
        if name == "school" and report.school_id != value.id:
            return False
        if name == "region" and report.school.region_id != value.region_id:
            return False
        if name == "form" and value not in report.violence_forms:
            return False
        if name == "answered" and (report.first_response_at is not None) != value:
            return False
        if name in ("place", "perpetrator", "priority") and getattr(report, name) != value:
            return False
    return True


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def csv_rows(data: bytes) -> dict[tuple[str, str, str], str]:
    # Excel on Windows reads UTF-8 only after its byte-order mark (issue 20).
    assert data.startswith("\ufeff".encode())
    reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
    return {(r["figure"], r["key"], r["measure"]): r["value"] for r in reader}


@pytest.fixture
def period():
    """A closed period of two whole months, three months back, and a day inside it."""
    today = utcnow().date().replace(day=1)
    start = (today - timedelta(days=100)).replace(day=1)
    end = (start + timedelta(days=62)).replace(day=1) - timedelta(days=1)
    inside = datetime(start.year, start.month, 10, 9, 0, tzinfo=UTC)
    return start, end, inside


@pytest.fixture
def regions(app, period):
    """Almaty: school A1 (12 reports) and A2 (3 reports); Astana: school B1 (6 reports)."""
    _start, _end, day = period
    a1 = factories.school("School A1", region_code="KZ-75")
    a2 = factories.school("School A2", region_code="KZ-75")
    b1 = factories.school("School B1", region_code="KZ-71")
    answered = day + timedelta(hours=2)
    for i in range(7):
        f.report(a1, day + timedelta(hours=i), [ViolenceForm.verbal], first_response_at=answered)
    for _ in range(3):
        f.report(a1, day, [ViolenceForm.physical], place=Place.yard, first_response_at=answered)
    for _ in range(2):
        f.report(
            a1,
            day,
            [ViolenceForm.sexual],
            place=Place.toilet,
            perpetrator=Perpetrator.school_staff,
            priority=Priority.high,
            first_response_at=answered,
            description=SECRET,
        )
    for _ in range(3):
        f.report(a2, day, [ViolenceForm.verbal], first_response_at=answered)
    for _ in range(6):
        f.report(b1, day, [ViolenceForm.bullying], first_response_at=answered)
    return a1, a2, b1


def query(period, **extra) -> str:
    start, end, _day = period
    args = {"start": start.isoformat(), "end": end.isoformat(), **extra}
    return "&".join(f"{k}={v}" for k, v in args.items())


def analyst(region_code: str | None = "KZ-75"):
    region = factories.region(region_code) if region_code else None
    return factories.user(Role.analyst, region_=region)


def open_page(client, login, user, url):
    login(user)
    client.get("/lang/en")
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def test_region_analyst_sees_their_schools_with_published_counts(client, login, regions, period):
    a1, a2, _b1 = regions
    html = open_page(client, login, analyst(), f"/insights/?{query(period)}")
    tables = Tables(html).tables
    by_school = tables["Reports and first responses by school"]
    # 12 reports are shown as 10 or 15; 3 as 0 (then the school is not listed) or 5.
    assert by_school["School A1"][0] == shown(school=a1) in ("10", "15")
    if shown(school=a2) == "0":
        assert "School A2" not in by_school
    else:
        assert by_school["School A2"][0] == "5"
    assert "School B1" not in html
    by_form = tables["Reports by form of violence"]
    almaty = {"region": a1}
    assert by_form["Verbal abuse"] == [shown(form=ViolenceForm.verbal, **almaty)]
    assert by_form["Physical violence"] == [shown(form=ViolenceForm.physical, **almaty)]
    assert by_form["Sexual violence"] == [shown(form=ViolenceForm.sexual, **almaty)]
    assert by_form["Bullying"] == ["0"]  # Astana's reports are not counted
    staff = Perpetrator.school_staff
    assert tables["Reports by who did it"]["Teacher or other school staff"] == [
        shown(perpetrator=staff, **almaty)
    ]
    # A median of fewer than ten answers is not shown; the share is of the published counts.
    high = tables["First response by priority"]["High"]
    assert high[1:3] == [
        shown(priority=Priority.high, **almaty),
        shown(priority=Priority.high, answered=True, **almaty),
    ]
    assert high[3] == "—"
    for name, cells in by_school.items():
        if name.startswith("School "):
            assert all(c.isdigit() and int(c) % 5 == 0 for c in cells[:2]), cells
    assert "a multiple of 5" in html


def test_national_analyst_sees_regions(client, login, regions, period):
    html = open_page(client, login, analyst(None), f"/insights/?{query(period)}")
    by_region = Tables(html).tables["Reports and first responses by region"]
    a1, _a2, b1 = regions
    assert by_region["Almaty"][0] == shown(region=a1) == "15"  # exactly 15
    assert by_region["Astana"][0] == shown(region=b1) in ("5", "10")  # 6
    assert "School A1" not in html


def test_a_school_sees_only_itself_with_exact_counts(client, login, regions, period):
    _a1, a2, _b1 = regions
    html = open_page(
        client, login, factories.user(Role.school_admin, a2), f"/insights/?{query(period)}"
    )
    tables = Tables(html).tables
    assert tables["Reports by form of violence"]["Verbal abuse"] == ["3"]
    assert tables["Reports by form of violence"]["Physical violence"] == ["0"]
    assert "Reports and first responses by school" not in tables
    # Asking for another school changes nothing: a school sees itself.
    other = client.get(f"/insights/?{query(period, school=regions[0].id)}").get_data(as_text=True)
    assert Tables(other).tables["Reports by form of violence"]["Verbal abuse"] == ["3"]


def test_analyst_cannot_reach_another_regions_school_or_region(client, login, regions, period):
    a1, _a2, b1 = regions
    login(analyst())
    assert client.get(f"/insights/?{query(period, school=b1.id)}").status_code == 404
    assert client.get(f"/insights/?{query(period, region=b1.region_id)}").status_code == 404
    assert client.get(f"/insights/export.csv?{query(period, school=b1.id)}").status_code == 404
    assert client.get(f"/insights/report.pdf?lang=ru&school={b1.id}").status_code == 404
    assert client.get(f"/insights/surveys/results?school={b1.id}").status_code == 404
    assert client.get(f"/insights/surveys/results?region={b1.region_id}").status_code == 404
    assert client.get(f"/insights/?{query(period, school=a1.id)}").status_code == 200


def test_analyst_cannot_reach_any_case_or_narrative(client, login, regions, period):
    from incidents.cases.models import Case

    a1, _a2, _b1 = regions
    report = f.report(a1, period[2], [ViolenceForm.physical], description=SECRET)
    case = Case(school_id=a1.id, report_id=report.id, label="CASE-SECRET")
    db.session.add(case)
    db.session.commit()
    login(analyst())
    for url in (f"/staff/cases/{opaque(case.id)}", "/staff/cases", "/staff/inbox"):
        assert client.get(url).status_code in (403, 404), url
    for url in ("/insights/", "/insights/export.csv", "/insights/report.pdf?lang=kk"):
        response = client.get(f"{url}{'&' if '?' in url else '?'}{query(period)}")
        body = pdf_text(response.data) if url.endswith("kk") else response.get_data(as_text=True)
        assert SECRET not in body and "CASE-SECRET" not in body and report.label not in body


@pytest.mark.parametrize("role", [Role.teacher, Role.partner])
def test_teachers_and_partners_get_no_statistics(client, login, role, regions):
    login(factories.user(role, regions[0] if role.is_school_role else None))
    for url in ("/insights/", "/insights/export.csv", "/insights/report.pdf?lang=kk"):
        assert client.get(url).status_code == 403, url


def test_csv_export_matches_the_dashboard(client, login, regions, period):
    a1, a2, _b1 = regions
    counselor = factories.user(Role.counselor, a1)
    classroom = factories.classroom(a1, 7, "А")
    wave, codes = f.wave(classroom, counselor, WaveKind.baseline, students=10)
    for i, code in enumerate(codes):
        f.answer(client, code, victim=3 if i < 3 else 0)
    wave.opened_at = period[2]  # the survey counts in the period it was opened in
    db.session.commit()
    user = analyst()
    html = open_page(client, login, user, f"/insights/?{query(period)}")
    tables = Tables(html).tables
    data = csv_rows(client.get(f"/insights/export.csv?{query(period)}").data)
    assert data[("reports", "all", "reports")] == "15"
    for label, key in (("Verbal abuse", "verbal"), ("Physical violence", "physical")):
        assert tables["Reports by form of violence"][label] == [
            data[("reports_by_form", key, "reports")]
        ]
    physical = shown(form=ViolenceForm.physical, region=a1)
    assert data[("reports_by_form", "physical", "reports")] == physical
    by_school = tables["Reports and first responses by school"]
    assert (
        data[("by_school", str(a1.id), "reports")] == by_school["School A1"][0] == shown(school=a1)
    )
    if shown(school=a2) != "0":
        assert data[("by_school", str(a2.id), "reports")] == by_school["School A2"][0]
    else:  # left out of both
        assert ("by_school", str(a2.id), "reports") not in data and "School A2" not in by_school
    months = tables["Reports per month"]
    assert all(v[0].isdigit() and int(v[0]) % 5 == 0 for k, v in months.items() if k != "Month")
    # The survey: 3 of 10 bullied -> 30.0% (Wilson 10.8%-60.3%), the same in both.
    assert data[("survey", "victim", "baseline_share")] == "0.3000"
    assert data[("survey", "victim", "baseline_low")] == "0.1078"
    assert data[("survey", "victim", "baseline_high")] == "0.6032"
    survey = tables["Survey results: share of students, with 95% intervals"]
    assert survey["Any form (overall question)"][0].startswith("30.0% (10.8%–60.3%)")


def test_exports_publish_counts_even_for_a_school(client, login, regions, period):
    _a1, a2, _b1 = regions
    login(factories.user(Role.counselor, a2))
    data = csv_rows(client.get(f"/insights/export.csv?{query(period)}").data)
    assert data[("reports", "all", "reports")] == shown(school=a2) in ("0", "5")  # 3 reports
    # The same three reports, whichever figure counts them: the same published value.
    assert data[("reports_by_form", "verbal", "reports")] == shown(school=a2)
    assert data[("reports_by_form", "physical", "reports")] == "0"


@pytest.mark.parametrize(
    ("locale", "heading"),
    [("kk", "Мектептегі зорлық-зомбылықтың алдын алу"), ("ru", "Профилактика насилия в школе")],
)
def test_pdf_report_for_a_region_matches_the_dashboard(
    client, login, regions, period, locale, heading
):
    user = analyst()
    html = open_page(client, login, user, f"/insights/?{query(period)}")
    by_school = Tables(html).tables["Reports and first responses by school"]
    response = client.get(f"/insights/report.pdf?lang={locale}&{query(period)}")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    assert heading in text
    lines = text.splitlines()
    schools = [line for line in lines if "School" in line]
    assert any(
        line.startswith("School A1") and by_school["School A1"][0] in line for line in lines
    ), schools
    if shown(school=regions[1]) != "0":
        assert any(line.startswith("School A2") and " 5 " in f" {line} " for line in lines)
    else:
        assert "School A2" not in text
    assert "School B1" not in text
    assert SECRET not in text
    # "—" is explained, in the report's language (issue 20).
    assert {"kk": "«—» белгісі", "ru": "Знак «—»"}[locale] in " ".join(lines)


def test_the_dashboard_says_what_a_dash_means(client, login, regions, period):
    """Issue 20: "—" stood where a value was not shown, and nothing said why."""
    html = open_page(client, login, analyst(), f"/insights/?{query(period)}")
    assert "—" in html
    assert "The sign “—” means a value is not shown" in html
    assert "(fewer than 10) or survey answers (fewer than 10)" in html


def test_first_response_median_and_share_within_target_by_hand(app, regions):
    school = factories.school("Timing School")
    now = utcnow()
    created = now - timedelta(days=10)
    # Normal priority, target 24 h: answered after 1, 3, 5 and 30 hours; one report unanswered
    # for 10 days (overdue) and one received an hour ago (not due yet).
    for hours in (1, 3, 5, 30):
        f.report(school, created, first_response_at=created + timedelta(hours=hours))
    f.report(school, created)
    f.report(school, now - timedelta(hours=1))
    admin = factories.user(Role.school_admin, school)
    # The period ends tomorrow (UTC): after 19:00 UTC it is already tomorrow in Kazakhstan.
    tomorrow = (now + timedelta(days=1)).date()
    filters = Filters((now - timedelta(days=30)).date(), tomorrow, school_id=school.id)
    [row] = timeliness(report_conditions(admin, filters), None, None, now)
    assert (row.reports, row.answered, row.within, row.overdue) == (6, 4, 3, 1)
    assert row.median_hours == pytest.approx(4.0)  # (3 + 5) / 2
    assert row.within_share == pytest.approx(0.6)  # 3 of the 5 decided
    f.report(school, created, first_response_at=created + timedelta(hours=2))
    [row] = timeliness(report_conditions(admin, filters), None, None, now)
    assert row.median_hours == pytest.approx(3.0)  # the middle of 1, 2, 3, 5, 30


def test_months_are_counted_in_kazakhstan_time(client, login, app):
    school = factories.school("Night School")
    # 20:00 UTC on 31 January is 01:00 on 1 February in Kazakhstan (UTC+5).
    f.report(school, datetime(2026, 1, 31, 20, 0, tzinfo=UTC))
    f.report(school, datetime(2026, 1, 31, 18, 0, tzinfo=UTC))
    html = open_page(
        client,
        login,
        factories.user(Role.school_admin, school),
        "/insights/?start=2026-01-01&end=2026-02-28",
    )
    months = Tables(html).tables["Reports per month"]
    assert months["Jan 2026"] == ["1"]
    assert months["Feb 2026"] == ["1"]


def test_the_form_filter_and_the_period_narrow_every_figure(client, login, regions, period):
    html = open_page(client, login, analyst(), f"/insights/?{query(period, form='physical')}")
    tables = Tables(html).tables
    a1 = regions[0]
    physical = {"form": ViolenceForm.physical, "region": a1}
    by_school = tables.get("Reports and first responses by school", {})
    assert by_school.get("School A1", ["0"])[0] == shown(school=a1, form=ViolenceForm.physical)
    assert tables["Reports by place"]["School yard"] == [shown(place=Place.yard, **physical)]
    assert tables["Reports by place"]["Classroom"] == ["0"]
    later = client.get("/insights/?start=2020-01-01&end=2020-03-01").get_data(as_text=True)
    assert Tables(later).tables["Reports by form of violence"]["Verbal abuse"] == ["0"]


def test_a_regions_page_lists_the_schools_that_need_attention_first(client, login, period):
    """A region of hundreds of schools: the page lists the ATTENTION_ROWS schools with the
    lowest share answered within target, the rest on demand; the CSV keeps every school."""
    from insights.dashboard import ATTENTION_ROWS

    _start, _end, day = period
    answered = day + timedelta(hours=1)
    names = [f"Quick {i:02d}" for i in range(ATTENTION_ROWS + 4)] + ["Slow 1", "Slow 2"]
    for name in names:
        school = factories.school(name, region_code="KZ-75")
        late = name.startswith("Slow")  # none answered, all past the target: a share of 0
        for _ in range(6):  # 6 reports: published as 5 or 10, never 0
            f.report(school, day, first_response_at=None if late else answered)
    html = open_page(client, login, analyst(), f"/insights/?{query(period)}")
    tables = Tables(html).tables
    assert "Reports and first responses by school" not in tables
    first = [name for name in tables["Schools that need attention first"] if name != "School"]
    assert len(first) == ATTENTION_ROWS
    assert first[:2] in (["Slow 1", "Slow 2"], ["Slow 2", "Slow 1"])
    assert f"Show all {len(names)} schools" in html
    every = open_page(client, login, analyst(), f"/insights/?{query(period, units='all')}")
    listed = Tables(every).tables["Reports and first responses by school"]
    assert set(names) <= set(listed)
    data = csv_rows(client.get(f"/insights/export.csv?{query(period)}").data)
    in_csv = {key for (figure, key, _measure) in data if figure == "by_school"}
    assert len(in_csv) == len(names)


def test_the_month_by_form_table_has_no_column_for_a_form_published_as_0(
    app, client, login, period
):
    """A column of the month-by-form table for a form whose published count is 0 would tell the
    analyst that its exact count is not 0 (issue 20's chart and table walk): such a form has no
    column, and every form published above 0 has one."""
    _start, _end, day = period
    school = factories.school("Columns School", region_code="KZ-75")
    forms = [
        ViolenceForm.physical,
        ViolenceForm.sexual,
        ViolenceForm.cyberbullying,
        ViolenceForm.home,
    ]
    for form in forms:
        f.report(school, day, [form])
    for _ in range(9):
        f.report(school, day, [ViolenceForm.verbal])
    html = open_page(client, login, analyst(), f"/insights/?{query(period)}")
    table = Tables(html).tables["Reports per month by form of violence"]
    heads = next(iter(table.values()))  # the header row: "Month", then one cell per form
    header = [*table][0]
    assert header == "Month"
    published = {form: shown(form=form) for form in [*forms, ViolenceForm.verbal]}
    assert any(value == "0" for value in published.values()), published
    for form, value in published.items():
        with app.test_request_context(), force_locale("en"):
            title = str(form.title)
        assert (title in heads) == (value != "0"), (form, value, heads)
