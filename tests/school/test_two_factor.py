"""Linking, replacing and resetting an authenticator (issue 13): a new one replaces the current
one only with a code of the current one, or after an administrator's reset."""

from __future__ import annotations

import re

import pyotp
from sqlalchemy import select

from core.audit import AuditEntry
from extensions import db
from school import security
from school.models import Role
from tests import factories
from tests.conftest import totp_code


def _shown_secret(response) -> str:
    return re.search(r'<code class="key">([A-Z2-7]+)</code>', response.get_data(as_text=True))[1]


def _entries(action: str) -> list[AuditEntry]:
    return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()


def test_replacing_an_authenticator_needs_a_code_of_the_current_one(client, login):
    user = factories.user(Role.counselor)
    login(user)
    old = user.totp_secret
    page = client.get("/login/two-factor")
    assert 'name="current"' in page.get_data(as_text=True)
    new = pyotp.TOTP(_shown_secret(page))
    missing = client.post("/login/two-factor", data={"code": new.now()})
    wrong = client.post("/login/two-factor", data={"current": "123456", "code": new.now()})
    assert missing.status_code == wrong.status_code == 200
    db.session.refresh(user)
    assert user.totp_secret == old
    done = client.post("/login/two-factor", data={"current": totp_code(user), "code": new.now()})
    assert "recovery-codes" in done.get_data(as_text=True)
    db.session.refresh(user)
    assert user.totp_secret == new.secret
    (entry,) = _entries("user.two_factor_enabled")
    assert entry.actor_id == user.id and '"replaced": true' in entry.detail


def test_a_recovery_code_proves_the_current_factor_after_a_lost_phone(client, login):
    user = factories.user(Role.school_admin)
    codes = security.new_recovery_codes(user)
    db.session.commit()
    client.post("/login", data={"email": user.email, "password": factories.PASSWORD})
    client.post("/login/code", data={"code": codes[0]})
    new = pyotp.TOTP(_shown_secret(client.get("/login/two-factor")))
    done = client.post("/login/two-factor", data={"current": codes[1], "code": new.now()})
    assert done.status_code == 200
    db.session.refresh(user)
    assert user.totp_secret == new.secret


def test_an_administrator_resets_a_lost_authenticator_and_the_next_log_in_links_a_new_one(
    app, login
):
    school = factories.school()
    director = factories.user(Role.school_admin, school)
    counselor = factories.user(Role.counselor, school)
    counselors_browser = app.test_client()
    login(counselor, using=counselors_browser)
    admins_browser = app.test_client()
    login(director, using=admins_browser)
    page = admins_browser.get(f"/staff/accounts/{counselor.id}").get_data(as_text=True)
    assert f"/staff/accounts/{counselor.id}/reset-two-factor" in page
    response = admins_browser.post(f"/staff/accounts/{counselor.id}/reset-two-factor")
    assert response.headers["Location"] == f"/staff/accounts/{counselor.id}"
    db.session.refresh(counselor)
    assert counselor.totp_secret is None and not counselor.recovery_codes
    (entry,) = _entries("user.two_factor_reset")
    assert entry.actor_id == director.id and entry.object_id == counselor.id
    assert counselors_browser.get("/staff").status_code == 302  # every session ended
    again = app.test_client()
    first = again.post("/login", data={"email": counselor.email, "password": factories.PASSWORD})
    assert first.headers["Location"] == "/login/two-factor"
    secret = _shown_secret(again.get("/login/two-factor"))
    again.post("/login/two-factor", data={"code": pyotp.TOTP(secret).now()})
    assert again.get("/staff").status_code == 200


def test_nobody_resets_their_own_or_another_schools_authenticator(app, client, login):
    director = factories.user(Role.school_admin)
    elsewhere = factories.user(Role.counselor)
    login(director)
    own = client.post(f"/staff/accounts/{director.id}/reset-two-factor")
    other = client.post(f"/staff/accounts/{elsewhere.id}/reset-two-factor")
    assert own.status_code == 302 and other.status_code == 404
    db.session.refresh(director)
    db.session.refresh(elsewhere)
    assert director.totp_secret and elsewhere.totp_secret
    assert not _entries("user.two_factor_reset")


def test_an_account_that_turned_its_authenticator_off_cannot_link_one_after_a_password(
    app, client, login
):
    user = factories.user(Role.teacher)
    login(user)
    secret = _shown_secret(client.get("/login/two-factor"))
    client.post("/login/two-factor", data={"code": pyotp.TOTP(secret).now()})
    client.post("/account/security", data={"action": "disable", "current": totp_code(user)})
    db.session.refresh(user)
    assert user.totp_secret is None
    client.post("/logout")
    app.config["TWO_FACTOR_ROLES"] = "teacher"  # now required: only an administrator reopens it
    response = client.post("/login", data={"email": user.email, "password": factories.PASSWORD})
    assert response.status_code == 200
    assert client.get("/login/two-factor").headers["Location"] == "/login"
    assert client.get("/staff").status_code == 302


def test_a_session_alone_neither_makes_recovery_codes_nor_turns_the_factor_off(client, login):
    """Found by the second review: a logged-in session without the factor (a staff-room computer
    left open) made new recovery codes, and one of them then "proved" the current factor to link
    the taker's own authenticator; a teacher's factor could be turned off the same way. Both now
    need a code of the current authenticator (or a recovery code), like replacing it."""
    counselor = factories.user(Role.counselor)
    login(counselor)
    refused = client.post("/account/security", data={"action": "recovery"})
    assert "recovery-codes" not in refused.get_data(as_text=True)
    wrong = client.post("/account/security", data={"action": "recovery", "current": "123456"})
    assert "recovery-codes" not in wrong.get_data(as_text=True)
    assert not _entries("user.recovery_codes")
    done = client.post(
        "/account/security", data={"action": "recovery", "current": totp_code(counselor)}
    )
    assert "recovery-codes" in done.get_data(as_text=True)
    client.post("/logout")

    teacher = factories.user(Role.teacher)
    login(teacher)
    secret = _shown_secret(client.get("/login/two-factor"))
    client.post("/login/two-factor", data={"code": pyotp.TOTP(secret).now()})
    client.post("/account/security", data={"action": "disable"})
    db.session.refresh(teacher)
    assert teacher.totp_secret == secret
    client.post("/account/security", data={"action": "disable", "current": totp_code(teacher)})
    db.session.refresh(teacher)
    assert teacher.totp_secret is None
