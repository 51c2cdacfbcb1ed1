"""Lock-out slows whoever guesses, not the account's owner (issue 13, finding 5).

Failures are counted per account and client: the client is the browser's known-device token
for that account when it has one, else a keyed hash of its address. Each test uses real
addresses (``REMOTE_ADDR``) and the real cookie the log-in sets.
"""

from __future__ import annotations

from school import lockout
from school.models import Role
from tests import factories
from tests.conftest import totp_code

ATTACKER = "198.51.100.7"
OWNER = "203.0.113.20"
WRONG = "not the password"


def _client(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _password(client, user, password=factories.PASSWORD):
    return client.post("/login", data={"email": user.email, "password": password})


def _log_in(client, user) -> bool:
    """Password (and code, for an account with one); True when the staff home opens."""
    response = _password(client, user)
    if response.status_code == 302 and response.headers["Location"] == "/login/code":
        client.post("/login/code", data={"code": totp_code(user)})
    return client.get("/staff").status_code == 200


def _attack(client, user, times: int = lockout.LOCK_FAILURES + 3) -> None:
    for _attempt in range(times):
        assert _password(client, user, WRONG).status_code == 200


def test_an_attacker_locks_only_their_own_address_and_the_owner_logs_in_from_another(app):
    user = factories.user(Role.teacher)
    attacker = _client(app, ATTACKER)
    _attack(attacker, user)
    # The attacker's address is locked: even the right password is refused there ...
    refused = _password(attacker, user)
    assert refused.status_code == 200 and attacker.get("/staff").status_code == 302
    # ... and the owner, from another address, is not.
    assert _log_in(_client(app, OWNER), user)


def test_the_owner_logs_in_from_the_attackers_address_with_the_known_device_cookie(app):
    user = factories.user(Role.counselor)
    owner = _client(app, ATTACKER)  # a shared network: one address for both
    assert _log_in(owner, user)
    cookie = owner.get_cookie(lockout.DEVICE_COOKIE, path="/login")
    assert cookie is not None and cookie.http_only and user.email not in cookie.value
    owner.post("/logout")
    attacker = _client(app, ATTACKER)
    _attack(attacker, user)
    assert _password(attacker, user).status_code == 200  # locked at this address
    assert _log_in(owner, user)


def test_the_attacker_stays_slowed_after_the_owner_logged_in(app):
    user = factories.user(Role.teacher)
    attacker = _client(app, ATTACKER)
    _attack(attacker, user)
    owner = _client(app, OWNER)
    assert _log_in(owner, user)
    owner.post("/logout")
    assert _log_in(owner, user)  # and again: the owner's successes free nobody else
    assert _password(attacker, user).status_code == 200
    assert attacker.get("/staff").status_code == 302
    # A fresh browser at the attacker's address is the same client: still locked.
    assert not _log_in(_client(app, ATTACKER), user)


def test_wrong_codes_lock_the_code_step_of_that_client_only(app):
    user = factories.user(Role.counselor)
    attacker = _client(app, ATTACKER)
    assert _password(attacker, user).headers["Location"] == "/login/code"
    for _attempt in range(lockout.LOCK_FAILURES):
        attacker.post("/login/code", data={"code": "000000"})
    right = attacker.post("/login/code", data={"code": totp_code(user)})
    assert right.headers["Location"] == "/login"
    assert attacker.get("/staff").status_code == 302
    assert _log_in(_client(app, OWNER), user)


def test_a_forged_or_another_accounts_device_cookie_frees_nobody(app):
    owner_user = factories.user(Role.teacher)
    other_user = factories.user(Role.teacher)
    other = _client(app, ATTACKER)
    assert _log_in(other, other_user)  # a real device cookie, for another account
    other.post("/logout")
    _attack(_client(app, ATTACKER), owner_user)
    assert not _log_in(other, owner_user)
    forged = _client(app, ATTACKER)
    forged.set_cookie(lockout.DEVICE_COOKIE, f"{owner_user.id}.forged.token", path="/login")
    assert not _log_in(forged, owner_user)


def test_above_the_accounts_ceiling_only_a_known_device_with_the_second_factor_logs_in(app):
    counselor = factories.user(Role.counselor)
    teacher = factories.user(Role.teacher)
    known_counselor, known_teacher = _client(app, OWNER), _client(app, OWNER)
    assert _log_in(known_counselor, counselor) and _log_in(known_teacher, teacher)
    known_counselor.post("/logout")
    known_teacher.post("/logout")
    # Many addresses, each staying under its own lock, together pass the account's ceiling.
    addresses = lockout.CEILING_FAILURES // lockout.LOCK_FAILURES
    for n in range(addresses):
        for user in (counselor, teacher):
            _attack(_client(app, f"10.13.0.{n + 1}"), user, lockout.LOCK_FAILURES)
    fresh = "192.0.2.99"  # an address that never failed
    assert not _log_in(_client(app, fresh), counselor)
    assert not _log_in(_client(app, fresh), teacher)
    # The known device still needs the second factor: the counselor has one, the teacher not.
    assert _log_in(known_counselor, counselor)
    assert not _log_in(known_teacher, teacher)


def test_the_counters_hold_no_address(app):
    user = factories.user(Role.teacher)
    _attack(_client(app, ATTACKER), user)
    keys = " ".join(str(key) for key in lockout.storage().shared.storage)
    assert "login-failures" in keys and ATTACKER not in keys
