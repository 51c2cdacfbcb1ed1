"""Ids that count nothing, for the addresses and pages people see.

Cases, referrals and what hangs under a case are numbered by the database one after another for
the whole platform, so a counselor who saw case 1041 on Monday and 1050 on Friday would know that
nine reports came in elsewhere. Their addresses carry instead a keyed permutation of the id
(``opaque``): seven letters and digits that look random, say nothing about order or count, and
map back to exactly one id (``plain``). It is a four-round Feistel network over 32 bits (round
function: HMAC-SHA-256 under a key derived from ``SECRET_KEY``), walked until the value is within
the ids' range; so two ids never share a token and no table of tokens is kept.

The rows keep their plain ids; only what reaches an address or a page goes through here (the
``opaque`` converter in routes, the ``opaque`` filter in templates). Changing ``SECRET_KEY``
changes every token, as it ends every session: old links to a case then answer 404.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import Flask, current_app
from werkzeug.routing import BaseConverter, ValidationError

from core.security import ID_MAX

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford's base 32: no i, l, o, u
LENGTH = 7  # 35 bits hold the 31 of an id
ROUNDS = 4


def _key() -> bytes:
    app = current_app
    key = app.extensions.get("qamqor_opaque_key")
    if key is None:
        secret = str(app.config["SECRET_KEY"]).encode()
        key = hmac.new(secret, b"qamqor opaque ids", hashlib.sha256).digest()
        app.extensions["qamqor_opaque_key"] = key
    return key


def _round(key: bytes, number: int, half: int) -> int:
    digest = hmac.new(key, bytes([number]) + half.to_bytes(2, "big"), hashlib.sha256).digest()
    return int.from_bytes(digest[:2], "big")


def _forward(key: bytes, value: int) -> int:
    left, right = value >> 16, value & 0xFFFF
    for number in range(ROUNDS):
        left, right = right, left ^ _round(key, number, right)
    return (left << 16) | right


def _backward(key: bytes, value: int) -> int:
    left, right = value >> 16, value & 0xFFFF
    for number in reversed(range(ROUNDS)):
        left, right = right ^ _round(key, number, left), left
    return (left << 16) | right


def _walk(step, value: int) -> int:
    """Cycle-walking: a permutation of 32 bits, repeated until the value is an id again, is a
    permutation of the ids (0 … ID_MAX)."""
    key = _key()
    value = step(key, value)
    while value > ID_MAX:
        value = step(key, value)
    return value


def opaque(id_: int) -> str:
    """The token of an id (0 … ID_MAX)."""
    value = _walk(_forward, int(id_))
    letters = []
    for _ in range(LENGTH):
        value, digit = divmod(value, 32)
        letters.append(ALPHABET[digit])
    return "".join(reversed(letters))


def plain(token: str) -> int | None:
    """The id of a token, or None for a string that is not one."""
    token = token.lower()
    if len(token) != LENGTH or any(letter not in ALPHABET for letter in token):
        return None
    value = 0
    for letter in token:
        value = value * 32 + ALPHABET.index(letter)
    if value > ID_MAX:
        return None
    return _walk(_backward, value)


class OpaqueConverter(BaseConverter):
    """``<opaque:case_id>``: the view gets the plain id; ``url_for`` takes the plain id too."""

    regex = f"[0-9a-zA-Z]{{{LENGTH}}}"

    def to_python(self, value: str) -> int:
        id_ = plain(value)
        if id_ is None:
            raise ValidationError()
        return id_

    def to_url(self, value) -> str:
        return opaque(int(value))


def init_app(app: Flask) -> None:
    app.url_map.converters["opaque"] = OpaqueConverter
    app.add_template_filter(opaque, "opaque")
