"""Two-factor log-in, lock-out after repeated failures, idle time-out, password rules."""

import time

import pyotp
import pytest

from extensions import db
from school import lockout, security
from school.models import Role
from tests import factories
from tests.conftest import totp_code


def _password(client, user, password=factories.PASSWORD):
    return client.post("/login", data={"email": user.email, "password": password})


def test_counselor_without_authenticator_must_set_one_up_first(client):
    user = factories.user(Role.counselor, totp_secret=None)
    response = _password(client, user)
    assert response.headers["Location"] == "/login/two-factor"
    assert client.get("/staff").status_code == 302  # not logged in yet
    page = client.get("/login/two-factor").get_data(as_text=True)
    assert "<svg" in page  # the QR code, drawn on the server
    with client.session_transaction() as session:
        secret = session["setup_secret"]
    wrong = client.post("/login/two-factor", data={"code": "000000"})
    assert wrong.status_code == 200 and client.get("/staff").status_code == 302
    done = client.post("/login/two-factor", data={"code": pyotp.TOTP(secret).now()})
    codes = [line for line in done.get_data(as_text=True).split("<code>")[1:]]
    assert len(codes) == security.RECOVERY_CODES
    assert client.get("/staff").status_code == 200
    db.session.refresh(user)
    assert user.totp_secret == secret and len(user.recovery_codes) == security.RECOVERY_CODES


def test_teacher_logs_in_with_a_password_only_by_default(client):
    user = factories.user(Role.teacher)
    response = _password(client, user)
    assert response.headers["Location"] == "/staff"


@pytest.mark.parametrize("role", [Role.partner, Role.analyst])
def test_partner_and_analyst_need_a_second_factor_by_default(app, role):
    """Partners and analysts read sensitive data (referrals, regional figures): with a password
    only, with or without an authenticator, they reach no page but the second-factor steps
    (issue 20)."""
    for secret in (None, pyotp.random_base32()):
        client = app.test_client()
        user = factories.user(role, totp_secret=secret)
        step = _password(client, user).headers["Location"]
        assert step == ("/login/code" if secret else "/login/two-factor")
        for url in ("/staff", "/partner/", "/analytics/", "/account/password"):
            response = client.get(url)
            assert response.status_code in (302, 404), url
            if response.status_code == 302:
                assert response.headers["Location"].startswith("/login"), url


def test_required_roles_are_configurable(app, client):
    app.config["TWO_FACTOR_ROLES"] = "teacher"
    user = factories.user(Role.teacher)
    assert _password(client, user).headers["Location"] == "/login/two-factor"


def test_second_factor_wrong_code_and_replay_are_refused(app, client):
    user = factories.user(Role.school_admin)
    assert _password(client, user).headers["Location"] == "/login/code"
    assert client.post("/login/code", data={"code": "123456"}).status_code == 200
    assert client.get("/staff").status_code == 302
    code = totp_code(user)
    assert client.post("/login/code", data={"code": code}).status_code == 302
    assert client.get("/staff").status_code == 200
    # The same code cannot be used again in another browser.
    other = app.test_client()
    _password(other, user)
    other.post("/login/code", data={"code": code})
    assert other.get("/staff").status_code == 302


def test_a_recovery_code_works_once(app, client):
    user = factories.user(Role.counselor)
    codes = security.new_recovery_codes(user)
    db.session.commit()
    _password(client, user)
    assert client.post("/login/code", data={"code": codes[0]}).status_code == 302
    assert client.get("/staff").status_code == 200
    again = app.test_client()
    _password(again, user)
    again.post("/login/code", data={"code": codes[0]})
    assert again.get("/staff").status_code == 302


def test_repeated_failures_lock_the_client_out_with_the_same_message(client):
    user = factories.user(Role.teacher)
    wrong = _password(client, user, "wrong password!").get_data(as_text=True)
    for _attempt in range(lockout.LOCK_FAILURES - 1):
        _password(client, user, "wrong password!")
    # The right password during the lock: refused, with the very same page as a wrong one.
    locked = _password(client, user)
    assert locked.status_code == 200
    assert locked.get_data(as_text=True) == wrong
    assert client.get("/staff").status_code == 302
    # Once the window has passed (the counters expire in the limiter's storage), it works again.
    lockout.storage().shared.reset()
    assert _password(client, user).headers["Location"] == "/staff"


def test_idle_staff_session_ends(app, client, login):
    login(factories.user(Role.teacher))
    assert client.get("/staff").status_code == 200
    with client.session_transaction() as session:
        session["seen"] = time.time() - 31 * 60
    response = client.get("/staff")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/staff").status_code == 302


def test_activity_keeps_the_session(client, login):
    login(factories.user(Role.teacher))
    with client.session_transaction() as session:
        session["seen"] = time.time() - 29 * 60
    assert client.get("/staff").status_code == 200


@pytest.mark.parametrize(
    "password",
    [
        "short",
        "qwerty123456",
        "Password123",
        "aaaaaaaaaaaa",
        "kazakhstan2024",
        "daniyar-the-teacher",
    ],
)
def test_weak_passwords_are_refused(client, login, password):
    user = factories.user(Role.teacher, email="daniyar@example.kz")
    login(user)
    old = user.password_hash
    response = client.post(
        "/account/password",
        data={"current": factories.PASSWORD, "new": password, "confirm": password},
    )
    assert response.status_code == 200
    db.session.refresh(user)
    assert user.password_hash == old


def test_a_good_password_is_accepted():
    assert security.password_problem("жылы көктем 2026 келді", "a@b.kz") is None


def _at_once(app, user_id: int, code: str) -> list[bool]:
    """Two workers check the same code for the same account at the same moment: each with its
    own connection, the first one commits only after the second has checked."""
    import threading

    from school.models import User

    first_checked = threading.Event()
    answers: dict[str, bool] = {}
    failures: list[BaseException] = []

    def worker(name: str) -> None:
        if name == "second":
            first_checked.wait(5)
        with app.app_context():
            try:
                user = db.session.get(User, user_id)
                answers[name] = security.verify_second_factor(user, code)
                if name == "first":
                    first_checked.set()
                    threading.Event().wait(0.5)  # still uncommitted while the second checks
                db.session.commit()
            except BaseException as error:  # reported below
                failures.append(error)
                first_checked.set()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(name,)) for name in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert failures == []
    return [answers["first"], answers["second"]]


def test_a_code_sent_twice_at_once_is_accepted_once(app):
    """Found by the second review: a code (or a recovery code) checked by two workers at the same
    moment, as a phishing relay would send the one it just took, was accepted by both; the
    replay check read the last step before either had written it."""
    user = factories.user(Role.counselor)
    codes = security.new_recovery_codes(user)
    db.session.commit()
    assert _at_once(app, user.id, totp_code(user)) == [True, False]
    assert _at_once(app, user.id, codes[0]) == [True, False]
