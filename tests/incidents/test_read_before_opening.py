"""A counselor reads a report before opening a case: nothing changes, the reading is in the
audit log, and only the counselor's own school's reports can be read (issue 20)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.audit import AuditEntry
from core.opaque import opaque
from extensions import db
from incidents.cases.models import Case
from school.models import Role
from tests import factories
from tests.incidents.case_factories import staffed_school
from tests.incidents.factories import report

pytestmark = pytest.mark.usefixtures("english")


def test_the_counselor_reads_a_report_without_opening_a_case(client, login):
    staff = staffed_school()
    made, _code = report(staff.school, description="Олар менің сөмкемді алды 5521")
    login(staff.counselor)
    inbox = client.get("/staff/inbox").get_data(as_text=True)
    address = f"/staff/reports/{opaque(made.id)}"
    assert f'href="{address}"' in inbox
    page = client.get(address)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "5521" in text and "Open a case" in text
    assert db.session.scalar(select(func.count(Case.id))) == 0
    db.session.refresh(made)
    assert made.first_response_at is None
    reads = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "report.read")).all()
    assert [(e.actor_id, e.object_id) for e in reads] == [(staff.counselor.id, made.id)]


def test_another_school_and_other_roles_cannot_read_it(client, login):
    staff = staffed_school()
    made, _code = report(staff.school, description="secret 5521")
    address = f"/staff/reports/{opaque(made.id)}"
    other = staffed_school("Басқа мектеп")
    login(other.counselor)
    assert client.get(address).status_code == 404
    client.post("/logout")
    for user in (staff.admin, staff.teacher, factories.user(Role.analyst)):
        login(user)
        response = client.get(address)
        assert response.status_code in (403, 404)
        assert "5521" not in response.get_data(as_text=True)
        client.post("/logout")
    assert not db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "report.read")
    ).all()
