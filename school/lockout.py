"""Log-in throttling that slows whoever guesses, not the account's owner.

Wrong passwords and wrong codes are counted per account *and client*. The client is the
browser's known-device token for that account when it has one (a signed cookie set at each
successful log-in, sent only to ``/login…``), else ``core.anonymity.client_key()``: a keyed
hash of the address, never the address itself. Five failures lock that client out of that
account for 15 minutes; the owner logging in from another address, or from a browser that has
logged in before, is not locked out.

A high ceiling per account (50 failures in an hour, from any clients) stops guessing spread over
many addresses: above it only a known device of an account with a second factor may try, and
the second factor must still pass. An account without one is then refused everywhere until the
hour has passed.

The counters live in the rate limiter's storage (memory, or Redis by ``RATELIMIT_STORAGE_URI``,
shared by the workers), never in a table; while Redis is away they go on in each worker's
memory (``core.counters.Counters``), so staff can still log in and the limits still hold.
"""

from __future__ import annotations

import secrets

from flask import Flask, after_this_request, current_app, request
from itsdangerous import BadSignature, URLSafeSerializer

from core.anonymity import client_key
from core.counters import Counters
from school.models import User

LOCK_FAILURES = 5
LOCK_MINUTES = 15
CEILING_FAILURES = 50
CEILING_MINUTES = 60
DEVICE_COOKIE = "qamqor_device"
DEVICE_DAYS = 180
DEVICE_ACCOUNTS = 5  # accounts remembered by one browser (a shared staff-room computer)


def storage() -> Counters:
    return current_app.extensions["qamqor_login_failures"]


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="qamqor known device")


def _devices() -> dict[int, str]:
    """The accounts this browser has logged in to: account id -> the device's token."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return {}
    try:
        pairs = _serializer().loads(raw)
    except BadSignature:
        return {}
    if not isinstance(pairs, list):
        return {}
    return {
        pair[0]: pair[1]
        for pair in pairs
        if isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], int)
    }


def known_device(user: User) -> str | None:
    return _devices().get(user.id)


def client(user: User) -> str:
    device = known_device(user)
    return f"device:{device}" if device else f"address:{client_key()}"


def _client_counter(user: User) -> str:
    return f"qamqor:login-failures:{user.id}:{client(user)}"


def _account_counter(user: User) -> str:
    return f"qamqor:login-failures:{user.id}"


def may_try(user: User) -> bool:
    """Whether a password or code from this client may be checked for this account now."""
    if storage().get(_client_counter(user)) >= LOCK_FAILURES:
        return False
    if storage().get(_account_counter(user)) >= CEILING_FAILURES:
        return user.has_two_factor and known_device(user) is not None
    return True


def record_failure(user: User) -> None:
    storage().incr(_client_counter(user), LOCK_MINUTES * 60)
    storage().incr(_account_counter(user), CEILING_MINUTES * 60)


def record_success(user: User) -> None:
    """This client's failures are forgotten (nobody else's, and not the account's ceiling), and
    the browser becomes a known device of the account."""
    storage().clear(_client_counter(user))
    devices = _devices()
    token = devices.pop(user.id, None) or secrets.token_urlsafe(16)
    kept = [[user.id, token]] + [[uid, other] for uid, other in devices.items()]
    value = _serializer().dumps(kept[:DEVICE_ACCOUNTS])

    @after_this_request
    def remember(response):
        response.set_cookie(
            DEVICE_COOKIE,
            value,
            max_age=DEVICE_DAYS * 24 * 3600,
            path="/login",
            secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
            httponly=True,
            samesite="Lax",
        )
        return response


def init_app(app: Flask) -> None:
    app.extensions["qamqor_login_failures"] = Counters(
        app.config["RATELIMIT_STORAGE_URI"],
        "failed log-ins",
        **app.config.get("RATELIMIT_STORAGE_OPTIONS", {}),
    )
