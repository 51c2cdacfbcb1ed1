"""Receipt codes: what a student keeps to come back to their report.

A code is 16 random digits, shown in four groups of four. The server never stores the code, only
a keyed slow hash of it: HMAC-SHA256 with the installation's pepper, then Argon2id with a salt
derived from the same pepper. The salt is the same for every code of the installation, so that one
code always gives one hash and a report can be found by it (``Report.receipt_hash`` is unique and
indexed); the pepper makes the stored hashes useless to someone who has the database but not the
configuration or the instance folder.

The pepper comes from the ``RECEIPT_PEPPER`` setting, or is generated once into
``<instance>/receipt_pepper``. Changing the pepper or ``ARGON2`` makes every existing code stop
working.

Wrong codes are answered at once with one message whatever the reason, and the client is told
to wait before its next try: a wait that grows with its recent failures (bounded). Until the
wait is over, its attempts are refused without looking at the code (``wait_left``). Nothing
sleeps: a waiting client holds no worker. The failure counters and the waits live in the rate
limiter's storage (memory, or Redis by ``RATELIMIT_STORAGE_URI``; in memory while Redis is
away, see ``core.counters``), keyed by ``core.anonymity.client_key()``, never by the address.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import time
from pathlib import Path

from argon2.low_level import Type, hash_secret_raw
from flask import Flask, current_app

from core.counters import Counters
from core.instance import instance_secret

CODE_DIGITS = 16
# RFC 9106's second recommended option, with one lane (the servers are small and shared).
ARGON2 = {"time_cost": 3, "memory_cost": 64 * 1024, "parallelism": 1}
HASH_BYTES = 32
# Failures are remembered this long (seconds), per client.
FAILURE_WINDOW = 3600


def new_code() -> str:
    """16 random digits (leading zeros allowed)."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def format_code(code: str) -> str:
    """``1234 5678 9012 3456``: easier to copy down and to read out."""
    return " ".join(code[i : i + 4] for i in range(0, len(code), 4))


def normalize_code(text: str | None) -> str | None:
    """The 16 digits of what was typed (spaces and dashes are fine), or None if it cannot be one."""
    digits = "".join(char for char in (text or "") if char in "0123456789")
    return digits if len(digits) == CODE_DIGITS else None


def _keys() -> tuple[bytes, bytes]:
    return current_app.extensions["qamqor_receipts"]


def hash_code(code: str) -> str:
    """The stored form of a normalized code (hex); the same code always gives the same hash."""
    pepper, salt = _keys()
    keyed = hmac.new(pepper, code.encode(), hashlib.sha256).digest()
    raw = hash_secret_raw(secret=keyed, salt=salt, hash_len=HASH_BYTES, type=Type.ID, **ARGON2)
    return raw.hex()


def hash_typed_code(text: str | None) -> str | None:
    """Hash what was typed; a malformed code costs the same work and gives None."""
    code = normalize_code(text)
    digest = hash_code(code or "0" * CODE_DIGITS)
    return digest if code else None


# --- wrong codes ------------------------------------------------------------------------------


def _failures() -> Counters:
    return current_app.extensions["qamqor_receipt_failures"]


def failure_count(client: str) -> int:
    return _failures().get(f"qamqor:receipt-failures:{client}")


def record_failure(client: str) -> int:
    """Count one more wrong code from this client; returns the count within the window."""
    return _failures().incr(f"qamqor:receipt-failures:{client}", FAILURE_WINDOW)


def wrong_code_delay(failures: int, unit: float, cap: float) -> float:
    """Seconds before the next try: unit, 2 units, 4 units, ... never more than ``cap``."""
    if failures <= 0:
        return 0.0
    return min(cap, unit * 2 ** min(failures - 1, 30))


def wait_left(client: str) -> int:
    """Whole seconds before this client's next code is looked at (0: it may try now)."""
    key = f"qamqor:receipt-wait:{client}"
    if not _failures().get(key):
        return 0
    return max(0, math.ceil(_failures().get_expiry(key) - time.time()))


def note_wrong_code(client: str) -> int:
    """Count a wrong code and start the client's wait; returns the wait in whole seconds."""
    config = current_app.config
    failures = record_failure(client)
    delay = wrong_code_delay(failures, config["RECEIPT_DELAY_UNIT"], config["RECEIPT_DELAY_MAX"])
    wait = math.ceil(delay)
    if wait:
        key = f"qamqor:receipt-wait:{client}"
        _failures().clear(key)  # a new wait replaces what is left of an earlier one
        _failures().incr(key, wait)
    return wait


def init_app(app: Flask) -> None:
    configured = app.config.get("RECEIPT_PEPPER")
    pepper = (
        configured.encode()
        if configured
        else instance_secret(Path(app.instance_path), "receipt_pepper")
    )
    salt = hashlib.sha256(b"qamqor receipt salt\0" + pepper).digest()[:16]
    app.extensions["qamqor_receipts"] = (pepper, salt)
    app.extensions["qamqor_receipt_failures"] = Counters(
        app.config["RATELIMIT_STORAGE_URI"],
        "wrong receipt codes",
        **app.config.get("RATELIMIT_STORAGE_OPTIONS", {}),
    )
