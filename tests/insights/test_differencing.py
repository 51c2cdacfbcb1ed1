"""No small count can be worked out from what one analyst can reach (issue 13, finding 8).

For one period, a national analyst fetches every statistics view: the country page, each
region's page and each school's page (the drill-downs), and the CSV export and PDF report of each.
Every number they publish is read, and every relation between them that a reader knows is written
down as "a total is the sum of its parts": within a page (the reports by month, by place, by who
did it, by priority and by region or school all add up to the reports in all; the answered ones
likewise) and across pages (a region's row on the country page is the region's own total; every
count of a region is the sum of that count over its schools). Then, as a reader who knows the
method would, the test gives every cell the interval its published value allows and narrows them
through the relations until nothing narrows (subtraction is the case where all terms but one are
known): no count may end up known to be exactly 1, 2, 3 or 4.

The data are random (fixed seeds), plus the reviewer's own example: 8 reports in a region, 5 in
one school and 3 in the other; each world is read under two installations' secrets.
"""

from __future__ import annotations

import csv
import io
import random
import re
from datetime import UTC, datetime, timedelta
from html import unescape as html_text

import pytest

from core.model_types import utcnow
from extensions import db
from incidents.cases.enums import CaseState, Outcome
from incidents.cases.models import Case
from incidents.intake.models import Perpetrator, Place, Priority, ViolenceForm
from insights.stats import ROUNDING_BASE
from school.models import Region, Role, School
from tests import factories
from tests.insights import factories as f
from tests.insights.test_dashboard import Tables, csv_rows, pdf_text

# Counts that add up across the schools of a region and the regions of the country.
ADDITIVE = {
    "reports",
    "reports_by_month",
    "reports_by_month_and_form",
    "reports_by_form",
    "reports_by_place",
    "reports_by_perpetrator",
    "first_response",
    "first_response_by_priority",
    "cases_by_outcome",
    "referrals_by_body",
}
# Breakdowns of the reports in all (and of the answered ones) on one page.
BREAKDOWNS = (
    "reports_by_month",
    "reports_by_place",
    "reports_by_perpetrator",
    "first_response_by_priority",
    "by_region",
    "by_school",
)


def _period():
    """Two whole months, three months back (closed: the monthly totals may serve them)."""
    today = utcnow().date().replace(day=1)
    start = (today - timedelta(days=100)).replace(day=1)
    end = (start + timedelta(days=62)).replace(day=1) - timedelta(days=1)
    return start, end


def _reports(school, n: int, rng: random.Random, start) -> None:
    second = (start + timedelta(days=40)).replace(day=1)
    for _ in range(n):
        month = rng.choice([start, second])
        created = datetime(month.year, month.month, rng.randint(1, 28), 9, tzinfo=UTC)
        answered = created + timedelta(hours=rng.randint(1, 60)) if rng.random() < 0.7 else None
        report = f.report(
            school,
            created,
            rng.sample(list(ViolenceForm), rng.randint(1, 2)),
            place=rng.choice(list(Place)),
            perpetrator=rng.choice(list(Perpetrator)),
            priority=rng.choice(list(Priority)),
            first_response_at=answered,
        )
        if rng.random() < 0.5:
            closed = rng.random() < 0.5
            db.session.add(
                Case(
                    school_id=school.id,
                    report_id=report.id,
                    label=f"C-{report.label}",
                    created_at=created,
                    state=CaseState.closed if closed else CaseState.in_progress,
                    outcome=rng.choice(list(Outcome)) if closed else None,
                )
            )
            db.session.commit()


def _world(seed: int | None, start) -> None:
    """Two regions of two or three schools; most schools have few reports."""
    if seed is None:  # the reviewer's example
        rng = random.Random(0)
        for name, code, n in (("School A", "KZ-75", 5), ("School B", "KZ-75", 3)):
            _reports(factories.school(name, region_code=code), n, rng, start)
        _reports(factories.school("School C", region_code="KZ-71"), 6, rng, start)
        return
    rng = random.Random(seed)
    for code, schools in (("KZ-75", rng.randint(2, 3)), ("KZ-71", 2)):
        for i in range(schools):
            school = factories.school(f"School {code}-{i}", region_code=code)
            _reports(school, rng.choice([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 13, 17]), rng, start)


def _published(data: bytes) -> dict[tuple[str, str, str], str]:
    return {k: v for k, v in csv_rows(data).items() if v != ""}


def _same_as_the_page(html: str, data: bytes) -> None:
    """The page shows what the CSV says, cell by cell (by label)."""
    by_label = {
        (r["figure"], r["label"], r["measure"]): r["value"]
        for r in csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
    }
    tables = Tables(html).tables
    simple = {
        "Reports per month": "reports_by_month",
        "Reports by place": "reports_by_place",
        "Reports by who did it": "reports_by_perpetrator",
        "Reports by form of violence": "reports_by_form",
        "Cases opened in the period, by outcome": "cases_by_outcome",
    }
    for caption, figure in simple.items():
        if caption not in tables:
            continue
        measure = "cases" if figure == "cases_by_outcome" else "reports"
        for label, cells in tables[caption].items():
            if (figure, label, measure) in by_label:
                assert cells[0] == by_label[(figure, label, measure)], (caption, label)
    for caption, figure in (
        ("Reports and first responses by school", "by_school"),
        ("Reports and first responses by region", "by_region"),
    ):
        for label, cells in tables.get(caption, {}).items():
            if (figure, label, "reports") in by_label:
                assert cells[:2] == [
                    by_label[(figure, label, "reports")],
                    by_label[(figure, label, "answered")],
                ], (caption, label)
    total = html_text(re.search(r"<dt>Reports</dt><dd>([^<]*)</dd>", html).group(1))
    assert total == by_label[("reports", "All reports", "reports")]


def _relations(pages: dict, children: dict, unit_of: dict) -> list[tuple]:
    """Every "total = sum of parts" a reader knows, over cells named (page, figure, key, measure)."""
    relations = []
    for page, cells in pages.items():
        for measure, total in (
            ("reports", (page, "reports", "all", "reports")),
            ("answered", (page, "first_response", "all", "answered")),
        ):
            for figure in BREAKDOWNS:
                parts = [(page, *k) for k in cells if k[0] == figure and k[2] == measure]
                unit = "by_region" if unit_of[page] == "country" else "by_school"
                if figure == unit and children.get(page):
                    # Every region or school is a part, listed or not (left out: shown as 0).
                    parts = [(page, figure, str(kid[1]), measure) for kid in children[page]]
                if parts:
                    relations.append((total, parts))
    for parent, kids in children.items():
        keys = {k for page in (parent, *kids) for k in pages[page] if k[0] in ADDITIVE}
        for key in keys:
            relations.append(((parent, *key), [(kid, *key) for kid in kids]))
        unit = "by_region" if unit_of[parent] == "country" else "by_school"
        for kid in kids:
            for measure, own in (
                ("reports", ("reports", "all", "reports")),
                ("answered", ("first_response", "all", "answered")),
            ):
                relations.append(((parent, unit, str(kid[1]), measure), [(kid, *own)]))
    return relations


def _every_view(client, login, seed) -> tuple[dict, dict, dict, dict]:
    """A national analyst fetches every page and CSV of one period (and checks they agree):
    the published cells of each view, the drill-downs of each, the level of each, and the
    query strings."""
    start, end = _period()
    _world(seed, start)
    user = factories.user(Role.analyst, region_=None)
    login(user)
    client.get("/lang/en")
    period = f"start={start.isoformat()}&end={end.isoformat()}"
    regions = db.session.scalars(db.select(Region).where(Region.iso_code.in_(["KZ-75", "KZ-71"])))
    views = {("country", 0): period}
    children: dict = {("country", 0): []}
    unit_of = {("country", 0): "country"}
    for region in regions:
        views[("region", region.id)] = f"{period}&region={region.id}"
        children[("country", 0)].append(("region", region.id))
        unit_of[("region", region.id)] = "region"
        children[("region", region.id)] = []
        for school in db.session.scalars(db.select(School).where(School.region_id == region.id)):
            views[("school", school.id)] = f"{period}&region={region.id}&school={school.id}"
            children[("region", region.id)].append(("school", school.id))
            unit_of[("school", school.id)] = "school"

    pages = {}
    for page, args in views.items():
        html = client.get(f"/insights/?{args}")
        assert html.status_code == 200, args
        data = client.get(f"/insights/export.csv?{args}").data
        _same_as_the_page(html.get_data(as_text=True), data)
        pages[page] = _published(data)
    return pages, children, unit_of, views


def _interval(value: str) -> tuple[int, int]:
    """What a published count tells a reader who knows the method (``published_count``): a 0
    (or a row left out) is 0 to 4, any other n is n - 4 to n + 4 and at least 1."""
    n = int(value)
    return (
        (0, ROUNDING_BASE - 1) if n == 0 else (max(1, n - ROUNDING_BASE + 1), n + ROUNDING_BASE - 1)
    )


def _pinned(pages: dict, relations: list[tuple]) -> list[str]:
    """Reason with bounds as a reader would: every cell starts with the interval its published
    value allows (a row left out was published as 0), and each "total = sum of parts" narrows
    the total to the sum of its parts' intervals and each part to the total's interval less the
    others', until nothing narrows. The counts then known exactly to be 1 to 4."""
    bounds: dict[tuple, list[int]] = {}
    for page, cells in pages.items():
        for key, value in cells.items():
            if value.isdigit():
                bounds[(page, *key)] = list(_interval(value))
    for total, parts in relations:
        for cell in (total, *parts):
            bounds.setdefault(cell, list(_interval("0")))
    changed = True
    while changed:
        changed = False
        for total, parts in relations:
            low = sum(bounds[p][0] for p in parts)
            high = sum(bounds[p][1] for p in parts)
            narrowed = {total: (low, high)}
            for p in parts:
                narrowed[p] = (
                    bounds[total][0] - (high - bounds[p][1]),
                    bounds[total][1] - (low - bounds[p][0]),
                )
            for cell, (lo, hi) in narrowed.items():
                was = bounds[cell]
                new = [max(was[0], lo), min(was[1], hi)]
                assert new[0] <= new[1], (cell, was, (lo, hi), total, parts)  # the model holds
                if new != was:
                    bounds[cell] = new
                    changed = True
    return [
        f"{cell} = {lo} (shown {pages[cell[0]].get(cell[1:], 'nothing')})"
        for cell, (lo, hi) in bounds.items()
        if lo == hi and 1 <= lo < ROUNDING_BASE
    ]


# Each world is read under two installations' secrets: what one draw hides, another must too.
SECRETS = ["first installation", "second installation"]


@pytest.mark.parametrize("secret", SECRETS)
@pytest.mark.parametrize("seed", [None, *range(1, 9)])
def test_no_small_count_can_be_worked_out_from_totals_and_drill_downs(
    app, client, login, seed, secret
):
    """Every page, CSV and PDF of one period as a national analyst fetches them agree, publish
    every count as a multiple of 5 (no "<5" that says "1 to 4"), and no count is known exactly to
    be 1 to 4 once every published relation has been reasoned through: by subtraction (the
    reviewer's "8 = x + <5, and the drill-down shows 5") or with the bounds of the rounding
    (``_pinned``; with rounding to the nearest 5 and "<5", 12 of 15 such worlds pinned one)."""
    app.extensions["qamqor_statistics_secret"] = secret.encode()
    pages, children, unit_of, views = _every_view(client, login, seed)
    for cells in pages.values():
        for key, value in cells.items():
            if key[2] in ("reports", "answered", "cases", "referrals", "sent"):
                assert value.isdigit() and int(value) % ROUNDING_BASE == 0, (key, value)

    # The PDF of a region says what the page and the CSV say of its schools.
    region_page = next(p for p in views if p[0] == "region" and children[p])
    text = pdf_text(client.get(f"/insights/report.pdf?lang=ru&{views[region_page]}").data)
    for kid in children[region_page]:
        school = db.session.get(School, kid[1])
        value = pages[region_page].get(("by_school", str(kid[1]), "reports"), "0")
        if value != "0":
            assert any(
                line.startswith(school.name) and f" {value} " in f" {line} "
                for line in text.splitlines()
            ), (school.name, value)

    pinned = _pinned(pages, _relations(pages, children, unit_of))
    assert not pinned, pinned
