"""The audit page speaks words: titles instead of event keys, the case's code instead of
"Case #4", details as lines not JSON, and filters by kind and date (issue 20)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core import audit
from core.audit import AuditEntry
from extensions import db
from incidents.cases import state_machine
from school.models import utcnow
from tests.incidents.case_factories import staffed_school, triaged_case


@pytest.fixture
def english_client(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def test_titles_case_codes_and_no_raw_json(english_client, login):
    client = english_client
    staff = staffed_school()
    case = triaged_case(staff)
    login(staff.admin)
    page = client.get("/staff/audit").get_data(as_text=True)
    assert "Case triaged" in page and "Case opened" in page
    assert "<code>case.triage</code>" not in page
    assert f"Case {case.label}" in page
    assert f"Case #{case.id}" not in page
    assert '{"' not in page  # no JSON


def test_filters_by_kind_and_date(english_client, login):
    client = english_client
    staff = staffed_school()
    case = triaged_case(staff)
    old = db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "case.open").limit(1))
    login(staff.admin)
    page = client.get("/staff/audit?kind=case.triage").get_data(as_text=True)
    assert "Case triaged" in page and "Case opened</td>" not in page
    tomorrow = (utcnow() + timedelta(days=2)).date().isoformat()
    page = client.get(f"/staff/audit?kind=case.triage&from={tomorrow}").get_data(as_text=True)
    assert "No entries." in page
    page = client.get("/staff/audit?kind=nonsense&from=notadate").get_data(as_text=True)
    assert "Case opened" in page  # a bad filter shows everything, nothing breaks
    assert old is not None and case is not None


def test_enabling_two_factor_is_the_users_own_entry(english_client, login):
    client = english_client
    staff = staffed_school()
    audit.record(
        "user.two_factor_enabled",
        staff.counselor,
        school_id=staff.school.id,
        actor=staff.counselor,
        replaced=False,
    )
    db.session.commit()
    login(staff.admin)
    page = client.get("/staff/audit?kind=user.two_factor_enabled").get_data(as_text=True)
    body = page.split("<tbody>", 1)[1]
    row = body.split("Two-factor log-in enabled", 1)[0].rsplit("<tr>", 1)[1]
    assert staff.counselor.full_name in row and "system" not in row
    assert state_machine is not None
