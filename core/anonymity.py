"""What keeps the anonymous pages anonymous beyond the database: logs and rate-limit keys.

- ``is_quiet_path`` names the requests that no access log may record (the student pages, the
  public front door, the class survey (/s), the awareness pages (/learn) and their leaflets,
  the certificate check (/verify), language switches and static files, which students'
  browsers fetch too). It judges the path as routing reads it (``routed_path``: percent-codes
  decoded, repeated slashes merged, ``.`` and ``..`` resolved), so ``//r/demo01`` or
  ``/%72/check`` is as quiet as ``/r/demo01``. A page that marks itself anonymous
  (``core.security.mark_anonymous``) also flags its request (``core.security.QUIET_ENVIRON_KEY``),
  whatever its path. ``gunicorn.conf.py`` uses both for gunicorn's access log; ``init_app`` uses the
  path for the development server's request log (the ``werkzeug`` logger).
- ``client_key`` is what the rate limits and the wrong-code counters are keyed by: a keyed hash of
  the address, so that not even the limiter's storage (Redis) holds an address.
- Flask-Limiter logs the key of a breached limit; ``init_app`` blanks it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from urllib.parse import unquote

from flask import Flask, current_app, request

STUDENT_PREFIX = "/r"
_QUIET_PREFIXES = ("/r/", "/s/", "/learn/", "/leaflets/", "/verify/", "/static/", "/lang/")
_QUIET_EXACT = frozenset({"/", "/r", "/s", "/learn", "/verify", "/favicon.ico"})
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def routed_path(path: str) -> str:
    """The path read as generously as any router or proxy might (without the query string):
    percent-codes decoded, empty and ``.`` segments dropped (Werkzeug merges repeated slashes),
    ``..`` resolved; a trailing slash is kept."""
    path = unquote(path.split("?", 1)[0])
    segments: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment not in ("", "."):
            segments.append(segment)
    trailing = "/" if segments and path.endswith(("/", "/.", "/..")) else ""
    return "/" + "/".join(segments) + trailing


def is_student_path(path: str) -> bool:
    path = routed_path(path)
    return path == STUDENT_PREFIX or path.startswith(STUDENT_PREFIX + "/")


def is_quiet_path(path: str) -> bool:
    """True for a request (path, with or without the query string) that must not be logged."""
    path = routed_path(path)
    return path in _QUIET_EXACT or path.startswith(_QUIET_PREFIXES)


def client_key() -> str:
    """A rate-limit key for the current client that is not its address (HMAC with the secret)."""
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    address = (request.remote_addr or "-").encode()
    return hmac.new(secret, b"client\0" + address, hashlib.sha256).hexdigest()[:32]


class QuietRequestLogFilter(logging.Filter):
    """Drops the development server's request lines for quiet paths."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple) and isinstance(record.args[0], str):
            parts = _ANSI.sub("", record.args[0]).split(" ")
            if len(parts) >= 2 and is_quiet_path(parts[1]):
                return False
        return True


class LimiterKeyFilter(logging.Filter):
    """Flask-Limiter logs "ratelimit <limit> (<key>) exceeded at endpoint"; the key goes."""

    def filter(self, record: logging.LogRecord) -> bool:
        if (
            isinstance(record.msg, str)
            and record.msg.startswith("ratelimit ")
            and isinstance(record.args, tuple)
            and len(record.args) == 3
        ):
            record.args = (record.args[0], "-", record.args[2])
        return True


def _install(logger_name: str, filter_cls: type[logging.Filter]) -> None:
    logger = logging.getLogger(logger_name)
    if not any(isinstance(existing, filter_cls) for existing in logger.filters):
        logger.addFilter(filter_cls())


def init_app(app: Flask) -> None:  # the loggers are process-wide: installed once
    _install("werkzeug", QuietRequestLogFilter)
    _install("flask-limiter", LimiterKeyFilter)
