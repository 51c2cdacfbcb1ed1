"""An analyst's statistics in a real Chromium at 1280 px, in Kazakh and Russian (issue 20): a
count published as 0 keeps its row in the chart as a marked placeholder, the month labels of a
year and more do not overlap, the axis is whole numbers, and no table is cut."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from playwright.sync_api import expect

from incidents.intake.models import Place, ViolenceForm
from insights.charts_view import HIDDEN_TEXT
from school.models import Role
from tests import factories
from tests.browser.helpers import axe_violations, log_in, screenshots
from tests.insights import factories as f

pytestmark = pytest.mark.browser

START, END = date(2025, 1, 1), date(2026, 1, 31)  # thirteen months


def analyst_and_reports(lang: str) -> dict:
    region = factories.region("KZ-75")
    school = factories.school(f"Статистика {lang} мектебі", region_code="KZ-75")
    for month in range(12):
        day = datetime(2025, month + 1, 10, 9, tzinfo=UTC)
        for n in range(7 + month):
            f.report(school, day + timedelta(hours=n), [ViolenceForm.verbal], place=Place.yard)
    f.report(school, datetime(2026, 1, 5, 9, tzinfo=UTC), [ViolenceForm.physical])
    user = factories.user(Role.analyst, region_=region, full_name="Асель Нұрланқызы")
    return {"email": user.email, "name": user.full_name, "secret": user.totp_secret}


def boxes(locator) -> list[dict]:
    return [item.bounding_box() for item in locator.all()]


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_analyst_charts_keep_every_row_and_read_cleanly(browsing, seed, tr, lang):
    data = seed(analyst_and_reports, lang)
    page = browsing.page()
    log_in(page, tr, lang, data["email"], data["name"], totp_secret=data["secret"])
    page.goto(f"/insights/?start={START.isoformat()}&end={END.isoformat()}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(tr(lang, "Statistics"))

    # Month labels: thirteen of them, none overlapping the next.
    month_chart = page.locator("svg#chart-month, svg:has(title#chart-month-t)").first
    labels = month_chart.locator('text[font-size="10"]')
    placed = sorted(boxes(labels), key=lambda b: (round(b["y"]), b["x"]))
    rows: dict[int, list[dict]] = {}
    for box in placed:
        rows.setdefault(round(box["y"]), []).append(box)
    for row in rows.values():
        for left, right in zip(row, row[1:], strict=False):
            assert left["x"] + left["width"] <= right["x"], f"labels overlap: {left} {right}"
    # The axis: whole numbers, each different (not 1 / 0 / 0).
    ticks = month_chart.locator('text[text-anchor="end"]').all_text_contents()
    assert len(set(ticks)) == len(ticks) == 3 and all(t.isdigit() for t in ticks), ticks

    # The forms' chart keeps every row of its table; a published 0 is a marked placeholder.
    form_chart = page.locator("svg:has(title#chart-form-t)")
    table = page.locator("table.figure-table").filter(
        has=page.get_by_text(tr(lang, "Reports by form of violence"), exact=True)
    )
    counts = table.locator("tbody td.num").all_inner_texts()
    zeros = sum(1 for c in counts if c.strip() == "0")
    assert zeros, counts
    expect(form_chart.locator("rect.hidden-count")).to_have_count(zeros)
    expect(form_chart.locator("text", has_text=HIDDEN_TEXT)).to_have_count(zeros)
    expect(form_chart.locator('text[fill="#1d2733"]')).to_have_count(len(counts))
    expect(page.locator(".note").first).to_contain_text(HIDDEN_TEXT)

    problems = screenshots(page, "analyst-dashboard", lang)
    # No table is cut at 1280 px: none needs its own scroll bar.
    for wrap in page.locator(".table-wrap").all():
        if wrap.is_visible():
            assert wrap.evaluate("w => w.scrollWidth <= w.clientWidth + 1"), wrap.inner_text()[:80]
    assert not axe_violations(page, "analyst-dashboard", contrast=lang == "kk")
    assert not problems
