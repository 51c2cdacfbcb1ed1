"""Long lists come in pages of 50: the count, the page asked for, and links before and after;
nothing beyond a fixed cap is out of reach any more."""

from __future__ import annotations

import random
import re

from sqlalchemy import func, select

from core.model_types import utcnow
from core.paging import PAGE_SIZE
from extensions import db
from incidents.cases.enums import CaseState
from incidents.cases.models import Case
from insights import synthetic
from school.models import Role
from tests import factories


def busy_school(cases: int):
    school = factories.school()
    synthetic.make_reports(
        cases, [(school.id, school.region_id, 1.0)], random.Random(3), utcnow(), case_share=1.0
    )
    db.session.commit()
    return school


def labels(html: str) -> list[str]:
    return re.findall(r'/staff/cases/\w+">([^<]+)</a>', html)


def test_all_cases_are_reachable_page_by_page(client, login):
    school = busy_school(130)
    total = db.session.scalar(select(func.count(Case.id)).where(Case.school_id == school.id))
    assert total > 2 * PAGE_SIZE
    login(factories.user(Role.school_admin, school))
    client.get("/lang/en")
    seen: list[str] = []
    page, url = 0, "/staff/cases"
    while url:
        html = client.get(url).get_data(as_text=True)
        page += 1
        assert f"Page {page} of 3" in html
        seen += labels(html)
        found = re.search(r'<a rel="next" href="([^"]+)"', html)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert page == 3
    assert len(seen) == len(set(seen)) == total  # every case once, none skipped


def test_a_page_number_that_is_not_one_shows_a_page_not_an_error(client, login):
    school = busy_school(120)
    login(factories.user(Role.school_admin, school))
    client.get("/lang/en")
    for asked, shown in (("abc", 1), ("-4", 1), ("0", 1), ("999999", 3), ("2", 2)):
        html = client.get(f"/staff/cases?page={asked}").get_data(as_text=True)
        assert f"Page {shown} of 3" in html, asked


def test_the_state_filter_is_kept_from_page_to_page(client, login):
    school = busy_school(400)
    closed = db.session.scalar(
        select(func.count(Case.id)).where(
            Case.school_id == school.id, Case.state == CaseState.closed
        )
    )
    assert closed > PAGE_SIZE
    login(factories.user(Role.school_admin, school))
    html = client.get("/staff/cases?state=closed").get_data(as_text=True)
    next_url = re.search(r'<a rel="next" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert "state=closed" in next_url and "page=2" in next_url


def test_the_inbox_pages_its_open_cases(client, login):
    school = busy_school(300)
    open_count = db.session.scalar(
        select(func.count(Case.id)).where(
            Case.school_id == school.id, Case.state.not_in([CaseState.new, CaseState.closed])
        )
    )
    assert open_count > PAGE_SIZE
    counselor = factories.user(Role.counselor, school)
    login(counselor)
    client.get("/lang/en")
    html = client.get("/staff/inbox").get_data(as_text=True)
    pages = -(-open_count // PAGE_SIZE)
    assert f"Page 1 of {pages}" in html
    assert 'href="/staff/inbox?page=2#open-cases"' in html


def test_the_platform_admin_pages_through_every_school(client, login):
    for n in range(PAGE_SIZE + 10):
        factories.school(f"Мектеп {n:03d}")
    schools = db.session.scalar(select(func.count()).select_from(factories.School))
    login(factories.user(Role.admin))
    client.get("/lang/en")
    first = client.get("/admin/schools").get_data(as_text=True)
    last = client.get("/admin/schools?page=2").get_data(as_text=True)
    assert "Page 1 of 2" in first and "Page 2 of 2" in last
    shown = re.findall(r"Мектеп \d{3}", first + last)
    assert len(set(shown)) == PAGE_SIZE + 10 <= schools
