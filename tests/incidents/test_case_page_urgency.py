"""A "danger now" case says what to do now; the time left is marked by urgency; the case page's
controls have ids of their own (labels point at their own control)."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

import pytest

from core.opaque import opaque
from extensions import db
from incidents.cases import state_machine
from incidents.cases.deadlines import time_left
from incidents.intake.models import Report
from school.models import utcnow
from tests.incidents.case_factories import staffed_school, triaged_case

pytestmark = pytest.mark.usefixtures("english")


def _danger_case(client, staff):
    client.post(
        f"/r/{staff.school.code}/danger", data={"description": "garages", "token": "d" * 32}
    )
    report = db.session.scalar(db.select(Report).where(Report.submission_token == "d" * 32))
    case = state_machine.open_case(report, by=staff.counselor, now=utcnow())
    db.session.commit()
    return case


def test_danger_now_case_says_what_to_do_now_with_112_and_102(app, client, login):
    staff = staffed_school()
    case = _danger_case(app.test_client(), staff)
    login(staff.counselor)
    page = client.get(f"/staff/cases/{opaque(case.id)}").get_data(as_text=True)
    box = page.split('class="danger-now"', 1)[1].split("</section>", 1)[0]
    assert "act now" in box
    assert 'href="tel:112"' in box and 'href="tel:102"' in box
    assert "safety contacts" in box
    # The hour of a critical report has just begun: the badge says it is urgent.
    assert "urgency-urgent" in box and "Urgent:" in box
    assert page.index('class="danger-now"') < page.index('id="report"')


def test_an_ordinary_case_has_no_danger_box(client, login):
    staff = staffed_school()
    case = triaged_case(staff)
    login(staff.counselor)
    page = client.get(f"/staff/cases/{opaque(case.id)}").get_data(as_text=True)
    assert 'class="danger-now"' not in page


def test_time_left_is_marked_by_urgency(app):
    now = utcnow()
    with app.test_request_context():
        assert time_left(now + timedelta(minutes=29), now).urgency == "urgent"
        assert time_left(now + timedelta(hours=3), now).urgency == "soon"
        assert time_left(now + timedelta(hours=24), now).urgency == "later"
        assert time_left(now - timedelta(minutes=1), now).urgency == "overdue"


def test_case_page_ids_are_unique_and_labels_point_at_their_own_form(client, login):
    staff = staffed_school()
    case = triaged_case(staff)
    login(staff.counselor)
    page = client.get(f"/staff/cases/{opaque(case.id)}").get_data(as_text=True)
    ids = Counter(re.findall(r'\sid="([^"]+)"', page))
    assert [i for i, n in ids.items() if n > 1] == []
    for form in re.findall(r"<form\b.*?</form>", page, re.S):
        form_ids = set(re.findall(r'\sid="([^"]+)"', form))
        for target in re.findall(r'<label for="([^"]+)"', form):
            assert target in form_ids, target


def test_the_fields_still_send_their_names(client, login):
    staff = staffed_school()
    case = triaged_case(staff)
    login(staff.counselor)
    page = client.get(f"/staff/cases/{opaque(case.id)}").get_data(as_text=True)
    assert 'id="action-kind" name="kind"' in page or 'name="kind"' in page
    assert 'id="priority-priority"' in page
