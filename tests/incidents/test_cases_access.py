"""Who may see what of the response: only the counselors and the administrator of the case's
school read a case (the administrator without the story); teachers, analysts, partners and the
platform administrator never; a partner only the referrals sent to their own body."""

from __future__ import annotations

import pytest

from core.model_types import utcnow
from core.opaque import opaque
from extensions import db
from incidents.cases import case_steps, state_machine
from incidents.cases.enums import Screening
from incidents.intake.models import ViolenceForm
from school.models import Role
from tests import factories
from tests.incidents.case_factories import (  # noqa: F401 - english_messages is a fixture
    english_messages,
    staffed_school,
    triaged_case,
)

STORY = "Story 5521 told by the student"
NARRATIVE = "Narrative 8830 of the counselor"
REPLY = "Reply 6604 to the student"


@pytest.fixture
def world(app):
    staff = staffed_school()
    case = triaged_case(
        staff,
        forms=[ViolenceForm.sexual],
        screening=Screening.peer_violence,
        description=STORY,
    )
    case.narrative = NARRATIVE
    case_steps.send_message(case, by=staff.counselor, body=REPLY, now=utcnow())
    referral = next(r for r in case.referrals if r.body_kind.value == "police")
    state_machine.send_referral(referral, by=staff.counselor, reference_number="1", now=utcnow())
    db.session.commit()
    return staff, case, referral


def case_urls(case, referral) -> list[tuple[str, str]]:
    c = f"/staff/cases/{opaque(case.id)}"
    r = f"/staff/referrals/{opaque(referral.id)}"
    return [
        ("GET", c),
        ("GET", f"{c}/summary.pdf"),
        ("GET", r),
        ("GET", f"{r}/letter.pdf"),
        ("POST", f"{c}/triage"),
        ("POST", f"{c}/details"),
        ("POST", f"{c}/step"),
        ("POST", f"{c}/close"),
        ("POST", f"{c}/reopen"),
        ("POST", f"{c}/priority"),
        ("POST", f"{c}/people"),
        ("POST", f"{c}/actions"),
        ("POST", f"{c}/messages"),
        ("POST", f"{c}/referrals"),
        ("POST", f"{r}/send"),
        ("POST", f"{r}/delete"),
        ("POST", f"/staff/reports/{opaque(case.report_id)}/open"),
    ]


def assert_no_data(response, *secrets):
    text = response.get_data(as_text=True)
    for secret in secrets:
        assert secret not in text


def test_a_counselor_of_another_school_gets_404_and_no_data(client, login, world):
    _, case, referral = world
    other = staffed_school("Other school", region_code="KZ-75")
    login(other.counselor)
    for method, url in case_urls(case, referral):
        response = client.open(url, method=method, data={"body": "x"})
        assert response.status_code == 404, (method, url)
        assert_no_data(response, STORY, NARRATIVE, REPLY, case.label)
    for url in ("/staff/inbox", "/staff/cases", "/staff/overdue?who=school"):
        assert_no_data(client.get(url), case.label)


@pytest.mark.parametrize("role", [Role.teacher, Role.analyst, Role.partner, Role.admin])
def test_other_roles_are_refused_every_case_page(client, login, world, role):
    staff, case, referral = world
    user = factories.user(
        role,
        staff.school if role.is_school_role else None,
        region_=staff.school.region if role == Role.analyst else None,
    )
    login(user)
    for method, url in case_urls(case, referral):
        response = client.open(url, method=method, data={"body": "x"})
        assert response.status_code == 403, (role, method, url)
        assert_no_data(response, STORY, NARRATIVE, REPLY, case.label)
    for url in ("/staff/inbox", "/staff/cases", "/staff/overdue", "/staff/approvals"):
        assert client.get(url).status_code == 403, (role, url)


def test_a_region_analyst_reads_no_case_even_through_the_scope(app, world):
    from sqlalchemy import select

    from incidents.cases.models import Case
    from incidents.scopes import case_scope

    staff, case, _ = world
    analyst = factories.user(Role.analyst, region_=staff.school.region)
    country = factories.user(Role.analyst)
    admin = factories.user(Role.admin)
    for user in (analyst, country, admin, staff.teacher):
        assert db.session.scalars(select(Case).where(case_scope(user, Case.school_id))).all() == []
    assert db.session.scalars(
        select(Case).where(case_scope(staff.counselor, Case.school_id))
    ).all() == [case]


def test_the_school_admin_sees_the_case_without_the_story(client, login, world):
    staff, case, referral = world
    login(staff.admin)
    response = client.get(f"/staff/cases/{opaque(case.id)}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert case.label in page and "Police (juvenile affairs)" in page
    assert_no_data(response, STORY, NARRATIVE, REPLY)
    # Only counselors act on the case.
    for method, url in case_urls(case, referral):
        if method == "POST":
            assert client.post(url, data={}).status_code == 403, url
    # The reporter's messages are not marked read by the administrator's visit.
    db.session.refresh(case)
    assert all(m.read_at is None for m in case.report.messages if m.author_kind.value == "reporter")


def test_a_partner_of_another_body_sees_nothing(client, login, world):
    staff, case, referral = world
    stranger = factories.user(Role.partner, body_=staff.guardianship)
    login(stranger)
    assert case.label not in client.get("/partner/referrals").get_data(as_text=True)
    for url in (
        f"/partner/referrals/{opaque(referral.id)}",
        f"/partner/referrals/{opaque(referral.id)}/letter.pdf",
    ):
        response = client.get(url)
        assert response.status_code == 404
        assert_no_data(response, case.label)
    for action in ("acknowledge", "outcome"):
        assert client.post(f"/partner/referrals/{opaque(referral.id)}/{action}").status_code == 404


@pytest.mark.parametrize("role", [Role.counselor, Role.school_admin, Role.teacher, Role.analyst])
def test_partner_pages_are_for_partners_only(client, login, world, role):
    staff, _, referral = world
    login(factories.user(role, staff.school if role.is_school_role else None))
    assert client.get("/partner/referrals").status_code == 403
    assert client.get(f"/partner/referrals/{opaque(referral.id)}").status_code == 403


@pytest.mark.parametrize("role", [Role.counselor, Role.school_admin, Role.analyst, Role.partner])
def test_teacher_pages_are_for_teachers_only(client, login, world, role):
    staff, _, _ = world
    login(factories.user(role, staff.school if role.is_school_role else None))
    assert client.get("/staff/my-reports").status_code == 403
    assert client.get("/staff/my-reports/new").status_code == 403


def test_the_audit_log_is_for_the_schools_administrator(client, login, world):
    staff, case, _ = world
    other = staffed_school("Other school", region_code="KZ-75")
    login(other.admin)
    page = client.get("/staff/audit").get_data(as_text=True)
    # The kinds of entry are listed in the filter; no entry of the other school is.
    assert case.label not in page and f"#{opaque(case.id)}" not in page
    own = client.application.test_client()
    login(staff.admin, using=own)
    page = own.get("/staff/audit").get_data(as_text=True)
    assert case.label in page and page.count("Case triaged") >= 2  # the filter and the entry
    assert STORY not in page and NARRATIVE not in page and REPLY not in page
    for role in (Role.counselor, Role.teacher, Role.analyst, Role.partner):
        viewer = client.application.test_client()
        login(factories.user(role, staff.school if role.is_school_role else None), using=viewer)
        assert viewer.get("/staff/audit").status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client, world):
    _, case, referral = world
    for url in (
        f"/staff/cases/{opaque(case.id)}",
        "/staff/inbox",
        f"/partner/referrals/{opaque(referral.id)}",
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
