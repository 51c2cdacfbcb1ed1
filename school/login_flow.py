"""The staff log-in as a small state machine: the one place that says which step a browser's
session may take.

States (``current``):

- ``anonymous``: nothing verified (or a password step that expired, or whose client has been
  locked out since, see ``school.lockout``).
- ``code_due``: the password was right and the account has a second factor: only the code
  (``/login/code``) may follow.
- ``enrolment_due``: the password was right, the account's role must use two factors, and the
  account has never linked an authenticator (or an administrator has reset it): only linking
  a first one (``/login/two-factor``) may follow.
- ``logged_in``: the whole log-in is done (Flask-Login's session).

A right password leads to ``code_due``, ``enrolment_due`` or straight to ``logged_in`` (a role
that needs no second factor, without one), or nowhere: an account that must use two factors
but once had an authenticator and no longer does needs an administrator's reset. A password
step lasts five minutes and names the account with its session nonce, so a password change or a
log-out elsewhere ends it; it is checked again on every request, so an administrator's reset or
a lock-out takes effect at once.

Replacing an authenticator is a step of ``logged_in`` only, and needs the current factor (a code
of the current app or a recovery code); an administrator's reset (``reset_two_factor``) is the
other way back to ``enrolment_due``.
"""

from __future__ import annotations

import enum
import time

from flask import session
from flask_login import current_user

from extensions import db
from school import lockout, security
from school.models import User

PENDING_SECONDS = 300  # between the password and the second factor


class State(enum.StrEnum):
    anonymous = "anonymous"
    code_due = "code_due"
    enrolment_due = "enrolment_due"
    logged_in = "logged_in"


class Step(enum.StrEnum):
    password = "password"  # noqa: S105 - a step's name: /login
    code = "code"  # /login/code
    authenticator = "authenticator"  # /login/two-factor
    account = "account"  # every page behind the log-in (Flask-Login's ``login_required``)


ALLOWED: dict[State, frozenset[Step]] = {
    State.anonymous: frozenset({Step.password}),
    State.code_due: frozenset({Step.password, Step.code}),
    State.enrolment_due: frozenset({Step.password, Step.authenticator}),
    State.logged_in: frozenset({Step.authenticator, Step.account}),
}

# Where a state goes when it asks for a step it may not take (endpoints).
NEXT_STEP = {
    State.anonymous: "school.login",
    State.code_due: "school.login_code",
    State.enrolment_due: "school.two_factor_setup",
    State.logged_in: "school.dashboard",
}

PENDING_KEYS = ("pending_user", "pending_at", "pending_next", "setup_secret", "setup_user")


def may_enrol_at_log_in(user: User) -> bool:
    """A first authenticator after the password alone: only for an account that must use one
    and never had one (or whose administrator reset it)."""
    return (
        not user.has_two_factor
        and user.two_factor_enrolled_at is None
        and security.two_factor_required(user)
    )


def after_password(user: User) -> State | None:
    """The state a right password leads to; None when the account cannot log in this way."""
    if user.has_two_factor:
        return State.code_due
    if may_enrol_at_log_in(user):
        return State.enrolment_due
    if not security.two_factor_required(user):
        return State.logged_in
    return None


def begin(user: User, next_url: str | None) -> None:
    """Remember a right password for the next step (``code_due`` or ``enrolment_due``)."""
    drop_pending()
    session["pending_user"] = user.get_id()
    session["pending_at"] = time.time()
    session["pending_next"] = next_url


def drop_pending() -> None:
    for key in PENDING_KEYS:
        session.pop(key, None)


def _pending_user(now: float) -> User | None:
    token = session.get("pending_user")
    if not token or now - session.get("pending_at", 0) > PENDING_SECONDS:
        return None
    user_id, _sep, nonce = token.partition(":")
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or not user.active or user.session_nonce != nonce:
        return None
    return user


def current(now: float | None = None) -> tuple[State, User | None]:
    """This session's state and the account it is about."""
    if current_user.is_authenticated:
        return State.logged_in, current_user._get_current_object()
    user = _pending_user(now if now is not None else time.time())
    state = after_password(user) if user is not None else None
    if user is None or state not in (State.code_due, State.enrolment_due):
        if "pending_user" in session:
            drop_pending()
        return State.anonymous, None
    if state == State.code_due and not lockout.may_try(user):
        drop_pending()
        return State.anonymous, None
    return state, user


def may(state: State, step: Step) -> bool:
    return step in ALLOWED[state]


def replacing_needs_current_factor(state: State, user: User) -> bool:
    """A logged-in person who has an authenticator proves it before linking another."""
    return state == State.logged_in and user.has_two_factor
