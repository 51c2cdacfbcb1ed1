"""Password and recovery-code hashing (Argon2id through argon2-cffi): what the log-in
(``school.services``) and the two-factor recovery codes (``school.security``) both use, in a module
of its own so that neither imports the other for it."""

from __future__ import annotations

import functools
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

HASHER = PasswordHasher()  # the tests swap in a fast one


@functools.cache
def dummy_hash() -> str:
    """Verified against when the e-mail is unknown, so both paths take the same time. Made on
    first use, not at import: an Argon2 hash costs ~150 ms and 64 MiB on every worker boot and
    every CLI command."""
    return HASHER.hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def verify_hash(stored: str, secret: str) -> bool:
    try:
        return HASHER.verify(stored, secret)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """True for a hash made with weaker parameters than today's."""
    return HASHER.check_needs_rehash(stored)
