"""Every step of the staff log-in × every state a browser's session can be in (issue 13).

A state is what the session holds when the step is taken: nothing, a right password waiting for
the second factor, a right password waiting for a first authenticator, a finished log-in, a
client locked out, a password step that has expired. Each cell of ``TABLE`` says what the step
answers in that state; every cell also checks that the account's authenticator changed only
where the table allows it, that the browser is logged in afterwards only where it says so, and
that every audit entry about the account names who acted.
"""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from sqlalchemy import select

from core.audit import AuditEntry
from extensions import db
from school import lockout, login_flow
from school.models import Role
from tests import factories
from tests.conftest import totp_code

PAGE = "page"  # 200
HOME = "/"  # after a log-out


def _post_password(client, user, password=factories.PASSWORD):
    return client.post("/login", data={"email": user.email, "password": password})


# --- the states: each builds a fresh account and brings a fresh client into the state ---------


def anonymous(client):
    return factories.user(Role.counselor)


def code_due(client):
    user = factories.user(Role.counselor)
    assert _post_password(client, user).headers["Location"] == "/login/code"
    return user


def enrolment_due(client):
    user = factories.user(Role.counselor, totp_secret=None)
    assert _post_password(client, user).headers["Location"] == "/login/two-factor"
    return user


def password_only_role(client):
    """A teacher: the password is the whole log-in for a role that needs no second factor."""
    user = factories.user(Role.teacher)
    assert _post_password(client, user).headers["Location"] == "/staff"
    return user


def logged_in(client):
    user = code_due(client)
    assert client.post("/login/code", data={"code": totp_code(user)}).status_code == 302
    return user


def locked(client):
    """Five wrong passwords from this browser; then the right one (refused)."""
    user = factories.user(Role.counselor)
    for _attempt in range(lockout.LOCK_FAILURES):
        assert _post_password(client, user, "wrong password!").status_code == 200
    assert _post_password(client, user).status_code == 200
    return user


def locked_while_code_due(client):
    """The right password, then five wrong codes."""
    user = code_due(client)
    for _attempt in range(lockout.LOCK_FAILURES):
        client.post("/login/code", data={"code": "000000"})
    return user


def expired_code_due(client):
    user = code_due(client)
    with client.session_transaction() as session:
        session["pending_at"] = time.time() - login_flow.PENDING_SECONDS - 1
    return user


def expired_enrolment_due(client):
    user = enrolment_due(client)
    with client.session_transaction() as session:
        session["pending_at"] = time.time() - login_flow.PENDING_SECONDS - 1
    return user


STATES = {
    "anonymous": anonymous,
    "code_due": code_due,
    "enrolment_due": enrolment_due,
    "password_only_role": password_only_role,
    "logged_in": logged_in,
    "locked": locked,
    "locked_while_code_due": locked_while_code_due,
    "expired_code_due": expired_code_due,
    "expired_enrolment_due": expired_enrolment_due,
}


# --- the steps --------------------------------------------------------------------------------


def _setup_code(client, response) -> str:
    """The code of the secret the set-up page shows (what the attack of issue 13 typed)."""
    found = re.search(r'<code class="key">([A-Z2-7]+)</code>', response.get_data(as_text=True))
    return pyotp.TOTP(found.group(1)).now() if found else "000000"


def _post_setup(client, user):
    shown = client.get("/login/two-factor")
    return client.post("/login/two-factor", data={"code": _setup_code(client, shown)})


def _post_code(client, user):
    return client.post("/login/code", data={"code": totp_code(user) if user.totp_secret else "1"})


STEPS = {
    "GET /login": lambda client, user: client.get("/login"),
    "POST /login": lambda client, user: _post_password(client, user),
    "GET /login/code": lambda client, user: client.get("/login/code"),
    "POST /login/code": _post_code,
    "GET /login/two-factor": lambda client, user: client.get("/login/two-factor"),
    "POST /login/two-factor": _post_setup,
    "GET /account/security": lambda client, user: client.get("/account/security"),
    "POST /logout": lambda client, user: client.post("/logout"),
    "GET /staff": lambda client, user: client.get("/staff"),
}

# What each step answers in each state: PAGE (200) or where it redirects (the path only).
REFUSED_TO_LOGIN = {step: "/login" for step in STEPS} | {"GET /login": PAGE}
TABLE = {
    "anonymous": REFUSED_TO_LOGIN | {"POST /login": "/login/code"},
    "code_due": REFUSED_TO_LOGIN
    | {
        "POST /login": "/login/code",
        "GET /login/code": PAGE,
        "POST /login/code": "/staff",
        "GET /login/two-factor": "/login/code",
        "POST /login/two-factor": "/login/code",
    },
    "enrolment_due": REFUSED_TO_LOGIN
    | {
        "POST /login": "/login/two-factor",
        "GET /login/code": "/login/two-factor",
        "POST /login/code": "/login/two-factor",
        "GET /login/two-factor": PAGE,
        "POST /login/two-factor": PAGE,  # the recovery codes: logged in
    },
    "password_only_role": {
        "GET /login": "/staff",
        "POST /login": "/staff",
        "GET /login/code": "/staff",
        "POST /login/code": "/staff",
        "GET /login/two-factor": PAGE,
        "POST /login/two-factor": PAGE,  # turned on from the account: the recovery codes
        "GET /account/security": PAGE,
        "POST /logout": HOME,
        "GET /staff": PAGE,
    },
    "logged_in": {
        "GET /login": "/staff",
        "POST /login": "/staff",
        "GET /login/code": "/staff",
        "POST /login/code": "/staff",
        "GET /login/two-factor": PAGE,
        "POST /login/two-factor": PAGE,  # refused: the current code is missing
        "GET /account/security": PAGE,
        "POST /logout": HOME,
        "GET /staff": PAGE,
    },
    "locked": REFUSED_TO_LOGIN | {"POST /login": PAGE},
    "locked_while_code_due": REFUSED_TO_LOGIN | {"POST /login": PAGE},
    "expired_code_due": REFUSED_TO_LOGIN | {"POST /login": "/login/code"},
    "expired_enrolment_due": REFUSED_TO_LOGIN | {"POST /login": "/login/two-factor"},
}

# The only cells that link an authenticator to the account: a first one, at the log-in of an
# account that never had one, or from the account of a logged-in person who has none.
ENROLS = {
    ("enrolment_due", "POST /login/two-factor"),
    ("password_only_role", "POST /login/two-factor"),
}
# The cells after which the browser is logged in.
LOGS_IN = {
    ("code_due", "POST /login/code"),
    ("enrolment_due", "POST /login/two-factor"),
} | {
    (state, step)
    for state in ("password_only_role", "logged_in")
    for step in STEPS
    if step != "POST /logout"
}

CELLS = [(state, step) for state in STATES for step in STEPS]


def test_the_table_covers_every_state_and_step():
    assert set(TABLE) == set(STATES)
    assert all(set(row) == set(STEPS) for row in TABLE.values())


@pytest.mark.parametrize(("state", "step"), CELLS, ids=[f"{s}-{t}" for s, t in CELLS])
def test_each_log_in_step_reaches_only_what_its_state_allows(app, state, step):
    client = app.test_client()
    user = STATES[state](client)
    db.session.refresh(user)
    secret_before = user.totp_secret
    response = STEPS[step](client, user)

    expected = TABLE[state][step]
    label = f"{step} in state {state}"
    if expected == PAGE:
        assert response.status_code == 200, f"{label}: {response.status_code}"
    else:
        assert response.status_code == 302, f"{label}: {response.status_code}"
        where = response.headers["Location"].split("?", 1)[0]
        assert where == expected, f"{label}: to {where}, expected {expected}"

    db.session.refresh(user)
    if (state, step) in ENROLS:
        assert user.totp_secret is not None and user.totp_secret != secret_before, label
    else:
        assert user.totp_secret == secret_before, f"{label}: the authenticator changed"
    is_in = client.get("/staff").status_code == 200
    assert is_in == ((state, step) in LOGS_IN), f"{label}: logged in afterwards: {is_in}"
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.object_type == "User", AuditEntry.object_id == user.id)
    ).all()
    for entry in entries:
        if entry.action != "user.create":  # made by the test's factory, not by a log-in step
            assert entry.actor_id == user.id, f"{label}: {entry.action} without its actor"


def test_the_issue_13_attack_no_longer_replaces_an_authenticator(app, client):
    """The reviewer's steps: the password, then the set-up page instead of the code."""
    victim = factories.user(Role.admin)
    secret = victim.totp_secret
    _post_password(client, victim)
    page = client.get("/login/two-factor")
    assert page.status_code == 302 and page.headers["Location"] == "/login/code"
    assert "<svg" not in page.get_data(as_text=True)
    taken = client.post("/login/two-factor", data={"code": _setup_code(client, page)})
    assert taken.status_code == 302 and taken.headers["Location"] == "/login/code"
    assert client.get("/staff").status_code == 302
    db.session.refresh(victim)
    assert victim.totp_secret == secret
    assert not db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "user.two_factor_enabled")
    ).all()
