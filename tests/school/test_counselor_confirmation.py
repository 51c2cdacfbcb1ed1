"""Who reads what children reported: a new counselor account (or a new holder of one) reads no
case until a second person confirms it, and every grant is audited and announced; a password
issued by someone else must be changed before any staff page opens."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from core.audit import AuditEntry
from core.mail import OutgoingMail
from core.opaque import opaque
from extensions import db
from school.models import Role, User
from tests import factories
from tests.incidents.case_factories import (  # noqa: F401 - english_messages is a fixture
    english_messages,
    staffed_school,
    triaged_case,
)

STORY = "Story 5521 that only a confirmed counselor reads"
NEW_PASSWORD = "a brand new passphrase 77"


@pytest.fixture
def one_factor(app):
    """The new accounts log in with their password alone here (no authenticator to set up)."""
    app.config["TWO_FACTOR_ROLES"] = "admin"


def shown_password(response) -> str:
    return re.search(r"<code>([^<]+)</code>", response.get_data(as_text=True)).group(1)


def log_in_first_time(app, email: str, password: str):
    """A fresh browser: the temporary password, then the change it leads to."""
    browser = app.test_client()
    browser.post("/login", data={"email": email, "password": password})
    assert browser.get("/staff").headers["Location"].endswith("/account/password")
    browser.post(
        "/account/password",
        data={"current": password, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert browser.get("/staff").status_code == 200
    return browser


def create_counselor(client, email: str, school_id: int | None = None) -> str:
    data = {"full_name": "Жаңа Психолог", "email": email, "role": "counselor", "locale": "ru"}
    if school_id is not None:
        data["school_id"] = str(school_id)
    response = client.post("/staff/accounts/new", data=data)
    assert response.status_code == 200
    return shown_password(response)


def test_a_counselor_made_by_the_school_admin_reads_no_case_until_another_counselor_confirms(
    app, client, login, one_factor
):
    staff = staffed_school()
    case = triaged_case(staff, description=STORY)
    login(staff.admin)
    password = create_counselor(client, "mine@example.kz")
    newcomer = log_in_first_time(app, "mine@example.kz", password)

    for page in (
        f"/staff/cases/{opaque(case.id)}",
        "/staff/inbox",
        "/staff/cases",
        "/staff/overdue",
    ):
        response = newcomer.get(page, headers={"Accept-Language": "ru"})
        assert response.status_code == 403, page
        html = response.get_data(as_text=True)
        assert "ожидает подтверждения" in html and STORY not in html
    assert "ожидает подтверждения" in newcomer.get("/staff").get_data(as_text=True)

    # The creator cannot confirm (not a counselor); the school's counselor can.
    user = db.session.scalar(select(User).where(User.email == "mine@example.kz"))
    assert client.post(f"/staff/confirmations/{user.id}").status_code == 403
    colleague = app.test_client()
    login(staff.counselor, using=colleague)
    listed = colleague.get("/staff/confirmations").get_data(as_text=True)
    assert "mine@example.kz" in listed and staff.admin.full_name in listed
    assert colleague.post(f"/staff/confirmations/{user.id}").status_code == 302

    page = newcomer.get(f"/staff/cases/{opaque(case.id)}")
    assert page.status_code == 200 and STORY in page.get_data(as_text=True)
    [confirmed] = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "user.case_access_confirmed")
    ).all()
    assert confirmed.actor_id == staff.counselor.id and confirmed.object_id == user.id


def test_the_platform_admin_cannot_confirm_a_counselor_they_made_a_second_admin_can(
    app, client, login, one_factor
):
    school = factories.school()
    case_school = staffed_school()  # another school: its counselor confirms nothing here
    maker = factories.user(Role.admin)
    second = factories.user(Role.admin)
    login(maker)
    password = create_counselor(client, "planted@example.kz", school_id=school.id)
    user = db.session.scalar(select(User).where(User.email == "planted@example.kz"))
    assert user.school_id == school.id and user.awaits_confirmation

    assert client.post(f"/staff/confirmations/{user.id}").status_code == 403
    outsider = app.test_client()
    login(case_school.counselor, using=outsider)
    assert outsider.post(f"/staff/confirmations/{user.id}").status_code == 404
    db.session.refresh(user)
    assert user.awaits_confirmation

    other = app.test_client()
    login(second, using=other)
    assert other.post(f"/staff/confirmations/{user.id}").status_code == 302
    db.session.refresh(user)
    assert not user.awaits_confirmation and user.case_access_confirmed_by_id == second.id
    log_in_first_time(app, "planted@example.kz", password)


def test_giving_the_counselor_role_is_audited_shown_and_announced(client, login):
    staff = staffed_school()
    elsewhere = staffed_school("Басқа мектеп")
    admin = factories.user(Role.admin, locale="kk")
    login(staff.admin)
    response = client.post(
        f"/staff/accounts/{staff.teacher.id}",
        data={
            "full_name": staff.teacher.full_name,
            "email": staff.teacher.email,
            "role": "counselor",
            "locale": "en",
            "active": "y",
        },
    )
    assert response.status_code == 302
    db.session.refresh(staff.teacher)
    assert staff.teacher.awaits_confirmation

    [granted] = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "user.case_access_granted")
    ).all()
    assert granted.actor_id == staff.admin.id and granted.object_id == staff.teacher.id
    assert granted.school_id == staff.school.id
    detail = json.loads(granted.detail)
    assert (detail["role"], detail["reason"], detail["by"]) == ("counselor", "role", staff.admin.id)
    page = client.get("/staff/audit", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Given the right to read cases" in page

    mails = {mail.to: mail for mail in db.session.scalars(select(OutgoingMail))}
    assert set(mails) == {staff.counselor.email, admin.email}
    assert elsewhere.counselor.email not in mails
    assert staff.teacher.email in mails[staff.counselor.email].body
    assert staff.school.name in mails[admin.email].subject
    assert "тіркелгі" in mails[admin.email].body  # in the admin's own language (kk)


def test_a_password_reset_or_a_new_address_by_someone_else_makes_a_counselor_wait_again(
    client, login
):
    staff = staffed_school()
    counselor = staff.counselor
    assert not counselor.awaits_confirmation
    login(staff.admin)
    assert client.post(f"/staff/accounts/{counselor.id}/reset-password").status_code == 200
    db.session.refresh(counselor)
    assert counselor.awaits_confirmation and counselor.must_change_password

    second = factories.user(Role.counselor, staff.school)
    from school import services

    services.confirm_case_access(counselor, by=second)
    db.session.commit()
    client.post(
        f"/staff/accounts/{counselor.id}",
        data={
            "full_name": counselor.full_name,
            "email": "someone-else@example.kz",
            "role": "counselor",
            "locale": "en",
            "active": "y",
        },
    )
    db.session.refresh(counselor)
    assert counselor.email == "someone-else@example.kz" and counselor.awaits_confirmation
    reasons = [
        json.loads(entry.detail)["reason"]
        for entry in db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "user.case_access_granted")
            .order_by(AuditEntry.seq)
        )
    ]
    assert reasons == ["password", "email"]


def test_a_temporary_password_opens_only_the_page_that_changes_it(app, client, login):
    login(factories.user(Role.school_admin))
    response = client.post(
        "/staff/accounts/new",
        data={"full_name": "Т", "email": "t@example.kz", "role": "teacher", "locale": "kk"},
    )
    password = shown_password(response)
    teacher = app.test_client()
    teacher.post("/login", data={"email": "t@example.kz", "password": password})
    for page in ("/staff", "/curriculum/library", "/staff/my-reports", "/account/security"):
        answer = teacher.get(page)
        assert answer.status_code == 302 and answer.headers["Location"].endswith(
            "/account/password"
        ), page
    assert teacher.get("/account/password").status_code == 200
    teacher.post(
        "/account/password",
        data={"current": password, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert teacher.get("/staff").status_code == 200
    assert not db.session.scalar(
        select(User).where(User.email == "t@example.kz")
    ).must_change_password


# --- platform administrators: the same two-person rule (issue 15, admin confirmation) ---------


@pytest.fixture
def passwords_only(app):
    """Every account logs in with its password alone here (no authenticator to set up)."""
    app.config["TWO_FACTOR_ROLES"] = ""


def create_admin(client, email: str) -> str:
    data = {"full_name": "Second Admin", "email": email, "role": "admin", "locale": "en"}
    data.update(school_id="0", region_id="0", body_id="0")  # as the form sends them
    response = client.post("/staff/accounts/new", data=data)
    assert response.status_code == 200
    return shown_password(response)


def account(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def test_one_admin_cannot_confirm_their_counselor_with_a_second_admin_account_they_made(
    app, client, login, passwords_only
):
    school = factories.school()
    first = factories.user(Role.admin)  # made by the operator's commands: confirmed
    other = factories.user(Role.admin)
    login(first)
    password = create_admin(client, "second@platform.kz")
    second = account("second@platform.kz")
    assert second.awaits_confirmation and second.case_access_granted_by_id == first.id
    create_counselor(client, "planted@example.kz", school_id=school.id)
    planted = account("planted@example.kz")

    # The attack: the second account confirms the first one's counselor, or makes a third admin.
    browser = log_in_first_time(app, "second@platform.kz", password)
    assert browser.post(f"/staff/confirmations/{planted.id}").status_code == 403
    third = {"full_name": "Third", "email": "third@platform.kz", "role": "admin", "locale": "en"}
    third.update(school_id="0", region_id="0", body_id="0")
    assert browser.post("/staff/accounts/new", data=third).status_code == 403
    assert account("third@platform.kz") is None
    assert browser.post(f"/staff/accounts/{first.id}/reset-password").status_code == 403
    # Nor does its maker confirm it.
    assert client.post(f"/staff/confirmations/{second.id}").status_code == 403
    db.session.refresh(planted)
    db.session.refresh(second)
    assert planted.awaits_confirmation and second.awaits_confirmation

    # Another confirmed administrator confirms the second account; then it may confirm.
    confirmer = app.test_client()
    login(other, using=confirmer)
    assert "second@platform.kz" in confirmer.get("/staff/confirmations").get_data(as_text=True)
    assert confirmer.post(f"/staff/confirmations/{second.id}").status_code == 302
    db.session.refresh(second)
    assert not second.awaits_confirmation and second.case_access_confirmed_by_id == other.id
    assert browser.post(f"/staff/confirmations/{planted.id}").status_code == 302
    db.session.refresh(planted)
    assert not planted.awaits_confirmation and planted.case_access_confirmed_by_id == second.id


def test_a_waiting_admin_confirms_nobody_and_a_counselor_never_confirms_an_admin(
    client, login, passwords_only
):
    from school import services

    staff = staffed_school()
    maker = factories.user(Role.admin)
    login(staff.admin)
    create_counselor(client, "new-counselor@example.kz")
    counselor = account("new-counselor@example.kz")
    platform = client.application.test_client()
    login(maker, using=platform)
    create_admin(platform, "waiting@platform.kz")
    waiting = account("waiting@platform.kz")

    assert not services.may_confirm(waiting, counselor)  # not its granter, but not confirmed
    assert services.may_confirm(maker, counselor)
    assert not services.may_confirm(staff.counselor, waiting)  # a counselor: never an admin
    assert not services.may_confirm(waiting, waiting)

    listed = client.application.test_client()
    login(staff.counselor, using=listed)
    assert "waiting@platform.kz" not in listed.get("/staff/confirmations").get_data(as_text=True)
    assert listed.post(f"/staff/confirmations/{waiting.id}").status_code == 404


def test_making_a_platform_admin_is_audited_and_announced_to_the_other_admins(
    client, login, passwords_only
):
    staff = staffed_school()
    maker = factories.user(Role.admin)
    reader = factories.user(Role.admin, locale="kk")
    login(maker)
    response = client.post(
        f"/staff/accounts/{staff.teacher.id}",
        data={
            "full_name": staff.teacher.full_name,
            "email": staff.teacher.email,
            "role": "admin",
            "locale": "en",
            "active": "y",
        },
    )
    assert response.status_code == 302
    db.session.refresh(staff.teacher)
    assert staff.teacher.awaits_confirmation

    [granted] = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "user.case_access_granted")
    ).all()
    detail = json.loads(granted.detail)
    assert (detail["role"], detail["reason"], detail["by"]) == ("admin", "role", maker.id)
    mails = {mail.to: mail for mail in db.session.scalars(select(OutgoingMail))}
    assert set(mails) == {maker.email, reader.email}  # the platform administrators only
    body = mails[reader.email].body
    assert staff.teacher.email in body and "платформа әкімшісі" in body
    assert staff.school.name not in body and "психолог" not in body

    # A password someone else issued makes a confirmed administrator wait again.
    confirmer = client.application.test_client()
    login(reader, using=confirmer)
    assert confirmer.post(f"/staff/confirmations/{staff.teacher.id}").status_code == 302
    [confirmed] = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "user.case_access_confirmed")
    ).all()
    assert json.loads(confirmed.detail)["role"] == "admin" and confirmed.actor_id == reader.id
    assert client.post(f"/staff/accounts/{staff.teacher.id}/reset-password").status_code == 200
    db.session.refresh(staff.teacher)
    assert staff.teacher.awaits_confirmation


def test_an_admin_cannot_confirm_a_counselor_made_by_a_school_admin_they_made(
    app, client, login, passwords_only
):
    """Before: one platform administrator made a school administrator account for themselves,
    made a counselor with it, and confirmed that counselor (they were not its granter)."""
    staff = staffed_school()
    maker = factories.user(Role.admin)
    other = factories.user(Role.admin)
    login(maker)
    data = {"full_name": "Planted Director", "email": "director@example.kz"}
    data.update(role="school_admin", locale="en", school_id=str(staff.school.id))
    data.update(region_id="0", body_id="0")
    response = client.post("/staff/accounts/new", data=data)
    assert response.status_code == 200
    director = log_in_first_time(app, "director@example.kz", shown_password(response))
    create_counselor(director, "planted@example.kz")
    planted = account("planted@example.kz")
    assert planted.case_access_granted_by_id == account("director@example.kz").id

    # The maker of the maker may not confirm; nor may a school administrator made further down.
    assert client.post(f"/staff/confirmations/{planted.id}").status_code == 403
    db.session.refresh(planted)
    assert planted.awaits_confirmation
    # The school's own counselor, or another administrator, may.
    from school import services

    assert services.may_confirm(staff.counselor, planted)
    confirmer = app.test_client()
    login(other, using=confirmer)
    assert confirmer.post(f"/staff/confirmations/{planted.id}").status_code == 302
    db.session.refresh(planted)
    assert not planted.awaits_confirmation and planted.case_access_confirmed_by_id == other.id
