"""Anonymity, declared once: what keeps the anonymous pages anonymous beyond the database.

- A blueprint is made anonymous where it is made (``anonymous_blueprint``), with the paths it
  serves (its ``url_prefix`` unless named). That one declaration makes every response under those
  paths, error pages included, anonymous: ``no-store`` and ``no-referrer`` (``core.security``),
  ``anonymous_page`` in every template, the request flagged for gunicorn's access log
  (``core.security.QUIET_ENVIRON_KEY``), and the paths quiet. ``quiet_blueprint`` declares paths
  that are only kept out of the logs (the language switch). ``ALWAYS_QUIET`` names the few that
  belong to no blueprint: the public front door, static files and the favicon, which students'
  browsers fetch too.
- ``finish(app)`` (the end of ``create_app``) collects the declarations into the app's
  ``QuietPaths`` and refuses to start when an anonymous blueprint serves a rule outside its paths.
  ``is_quiet_path`` judges a path as routing reads it (``routed_path``: percent-codes decoded,
  repeated slashes merged, ``.`` and ``..`` resolved), so ``//r/demo01`` or ``/%72/check`` is as
  quiet as ``/r/demo01``. ``gunicorn.conf.py`` reads the app's paths for gunicorn's access log;
  ``init_app`` uses them for the development server's request log (the ``werkzeug`` logger).
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

from flask import Blueprint, Flask, current_app, g, request

from core.security import mark_anonymous

# Quiet paths of no blueprint: the public front door, and what every browser fetches with a page.
ALWAYS_QUIET_EXACT = frozenset({"/", "/favicon.ico"})
ALWAYS_QUIET_PREFIXES = ("/static",)
_EXTENSION = "qamqor.quiet_paths"


def anonymous_blueprint(name: str, import_name: str, *, paths: tuple[str, ...] = (), **options):
    """A blueprint every page of which is anonymous (see the module's docstring). ``paths``: the
    first segments of its addresses (``("/learn", "/leaflets")``); its ``url_prefix`` if not
    given."""
    blueprint = Blueprint(name, import_name, **options)
    blueprint.quiet_paths = _paths(blueprint, paths)
    blueprint.anonymous = True
    return blueprint


def quiet_blueprint(name: str, import_name: str, *, paths: tuple[str, ...] = (), **options):
    """A blueprint whose requests no access log records, without being anonymous pages."""
    blueprint = Blueprint(name, import_name, **options)
    blueprint.quiet_paths = _paths(blueprint, paths)
    blueprint.anonymous = False
    return blueprint


def _paths(blueprint: Blueprint, paths: tuple[str, ...]) -> tuple[str, ...]:
    paths = paths or ((blueprint.url_prefix,) if blueprint.url_prefix else ())
    if not paths or any(not p.startswith("/") or p.count("/") != 1 or "<" in p for p in paths):
        raise ValueError(f"{blueprint.name}: name its paths as first segments, like '/r'")
    return tuple(paths)


class QuietPaths:
    """The quiet and the anonymous paths of one app, from its blueprints' declarations."""

    def __init__(self, quiet: tuple[str, ...], anonymous: tuple[str, ...]) -> None:
        self.quiet = (*ALWAYS_QUIET_PREFIXES, *quiet)
        self.anonymous = anonymous

    @staticmethod
    def _under(path: str, segments: tuple[str, ...]) -> bool:
        return any(path == segment or path.startswith(segment + "/") for segment in segments)

    def is_quiet(self, path: str) -> bool:
        """True for a request (path, with or without the query string) that must not be logged."""
        path = routed_path(path)
        return path in ALWAYS_QUIET_EXACT or self._under(path, self.quiet)

    def is_anonymous(self, path: str) -> bool:
        return self._under(routed_path(path), self.anonymous)


def finish(app: Flask) -> QuietPaths:
    """Collect the declarations of the app's blueprints, once they are all registered."""
    quiet: list[str] = []
    anonymous: list[str] = []
    for blueprint in app.blueprints.values():
        paths = getattr(blueprint, "quiet_paths", ())
        quiet.extend(paths)
        if getattr(blueprint, "anonymous", False):
            anonymous.extend(paths)
            for rule in app.url_map.iter_rules():
                if rule.endpoint.startswith(blueprint.name + ".") and not QuietPaths._under(
                    rule.rule, paths
                ):
                    raise RuntimeError(f"{rule.rule} is outside the anonymous paths {paths}")
    app.extensions[_EXTENSION] = QuietPaths(tuple(quiet), tuple(anonymous))
    install_request_log_filter(app)
    return app.extensions[_EXTENSION]


def quiet_paths(app: Flask | None = None) -> QuietPaths:
    return (app or current_app).extensions[_EXTENSION]


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


def is_quiet_path(path: str, app: Flask | None = None) -> bool:
    """True for a request (path, with or without the query string) that no log may record."""
    return quiet_paths(app).is_quiet(path)


def mark_anonymous_paths(endpoint, values) -> None:
    """The app's first request hook (a URL value preprocessor runs before every
    ``before_request``), so that even a refused (429) or unknown (404) address under an anonymous
    blueprint's paths is anonymous."""
    if quiet_paths().is_anonymous(request.path):
        mark_anonymous()


def anonymous_page_context() -> dict:
    """Every template of an anonymous response, error pages included, knows it is one (the base
    layout then sends no referrer in its <meta> as in the header)."""
    return {"anonymous_page": bool(g.get("anonymous_page"))}


def client_key() -> str:
    """A rate-limit key for the current client that is not its address (HMAC with the secret)."""
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    address = (request.remote_addr or "-").encode()
    return hmac.new(secret, b"client\0" + address, hashlib.sha256).hexdigest()[:32]


class QuietRequestLogFilter(logging.Filter):
    """Drops the development server's request lines for quiet paths (of the app made last: the
    logger is process-wide, and every app of this code declares the same paths)."""

    def __init__(self, paths: QuietPaths) -> None:
        super().__init__()
        self.paths = paths

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple) and isinstance(record.args[0], str):
            parts = _ANSI.sub("", record.args[0]).split(" ")
            if len(parts) >= 2 and self.paths.is_quiet(parts[1]):
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


def init_app(app: Flask) -> None:
    app.url_value_preprocessor(mark_anonymous_paths)
    app.context_processor(anonymous_page_context)
    limiter_logger = logging.getLogger("flask-limiter")  # process-wide: installed once
    if not any(isinstance(f, LimiterKeyFilter) for f in limiter_logger.filters):
        limiter_logger.addFilter(LimiterKeyFilter())


def install_request_log_filter(app: Flask) -> None:
    """The development server's request log keeps no line of a quiet path."""
    werkzeug_logger = logging.getLogger("werkzeug")
    for existing in [f for f in werkzeug_logger.filters if isinstance(f, QuietRequestLogFilter)]:
        werkzeug_logger.removeFilter(existing)
    werkzeug_logger.addFilter(QuietRequestLogFilter(quiet_paths(app)))
