"""The staff home page puts what needs action first, with counts: critical ("danger now")
reports waiting, what is overdue, closures waiting for approval; only of the user's school."""

from __future__ import annotations

import re

import pytest

from extensions import db
from incidents.cases import case_steps, state_machine
from incidents.cases.enums import ActionKind, Outcome, RiskLevel
from incidents.intake.models import ViolenceForm
from school.models import Role, utcnow
from tests import factories
from tests.incidents.case_factories import hours, staffed_school, triaged_case
from tests.incidents.factories import report

pytestmark = pytest.mark.usefixtures("english")


def _attention(html: str) -> list[str]:
    section = html.split('id="attention-title"', 1)[1].split("</section>", 1)[0]
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", item)).strip()
        for item in re.findall(r"<li[^>]*>(.*?)</li>", section, re.S)
    ]


def _danger(client, code: str, token: str) -> None:
    response = client.post(f"/r/{code}/danger", data={"description": "now", "token": token})
    assert response.status_code == 200


def test_counselor_home_counts_danger_reports_and_overdue_first(app, client, login):
    staff = staffed_school()
    other = staffed_school("Басқа мектеп")
    for n in range(4):
        _danger(app.test_client(), staff.school.code, f"{n}" * 32)
    _danger(app.test_client(), other.school.code, "z" * 32)  # not this school's
    late, _code = report(staff.school, forms=[ViolenceForm.verbal])
    late.created_at = utcnow() - hours(80)  # past the target of any priority
    db.session.commit()

    login(staff.counselor)
    page = client.get("/staff").get_data(as_text=True)
    lines = _attention(page)
    assert lines[0] == "4 critical reports (danger now) are waiting for triage"
    assert "1 item is overdue" in lines
    assert "5 new reports are waiting for triage" in lines
    assert not any("approval" in line for line in lines)  # the director's
    assert page.index('id="attention-title"') < page.index('class="tiles"')


def test_director_sees_closures_waiting_and_nothing_of_another_school(app, client, login):
    staff = staffed_school()
    other = staffed_school("Басқа мектеп")
    for school_staff in (staff, other):
        case = triaged_case(school_staff, risk=RiskLevel.high)
        for action in case.actions:
            case_steps.complete_action(action, by=school_staff.counselor, now=utcnow())
        state_machine.close(
            case, by=school_staff.counselor, outcome=Outcome.resolved, note="ok", now=utcnow()
        )
        db.session.commit()
    plan = triaged_case(staff)
    case_steps.plan_action(
        plan,
        by=staff.counselor,
        kind=ActionKind.talk_parents,
        due_on=(utcnow() - hours(72)).date(),
        now=utcnow(),
    )
    db.session.commit()

    login(staff.admin)
    lines = _attention(client.get("/staff").get_data(as_text=True))
    assert "1 case closure is waiting for your approval" in lines
    assert "0 critical reports (danger now) are waiting for triage" in lines
    assert "1 item is overdue" in lines


def test_teacher_and_analyst_get_no_case_counts(client, login):
    staff = staffed_school()
    _danger(client, staff.school.code, "t" * 32)
    for user in (staff.teacher, factories.user(Role.analyst)):
        login(user)
        assert 'id="attention-title"' not in client.get("/staff").get_data(as_text=True)
        client.post("/logout")
