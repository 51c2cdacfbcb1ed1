"""Response headers every page gets (student pages tighten them further), and numbers in
addresses kept to what the database can hold."""

from __future__ import annotations

from flask import Flask, Request, abort, g, request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter

# Ids are 32-bit integer columns: a larger number in an address names nothing (404), instead of
# reaching the database driver (SQLite cannot bind an integer over 64 bits: a 500).
ID_MAX = 2**31 - 1

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


# Set in the WSGI environ of an anonymous page: gunicorn's access logger (gunicorn.conf.py) reads
# it and writes no line for that request, whatever its path.
QUIET_ENVIRON_KEY = "qamqor.quiet"


def mark_anonymous() -> None:
    """Called for every request under the paths of an anonymous blueprint
    (``core.anonymity.anonymous_blueprint``): nothing of this response may be kept, and no access
    log may write a line for it."""
    g.anonymous_page = True
    request.environ[QUIET_ENVIRON_KEY] = True


def _headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if g.get("anonymous_page"):
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
    else:
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.endpoint and request.endpoint != "static":
            response.headers.setdefault("Cache-Control", "no-store")
    if request.is_secure:
        response.headers.setdefault(
            "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
        )
    return response


class IdConverter(IntegerConverter):
    """``<int:...>`` in every route: at most ``ID_MAX``."""

    def __init__(self, map, *args, **kwargs) -> None:
        kwargs.setdefault("max", ID_MAX)
        super().__init__(map, *args, **kwargs)


class Parameters(ImmutableMultiDict):
    """Query and form values: ``get(name, type=int)`` answers the default for a number beyond
    the ids' range, as for any value that is not a number."""

    def get(self, key, default=None, type=None):
        value = super().get(key, default, type)
        if type is int and isinstance(value, int) and not -ID_MAX <= value <= ID_MAX:
            return default
        return value


class BoundedRequest(Request):
    parameter_storage_class = Parameters


def refuse_nul_in_address() -> None:
    """A NUL character is never part of an address or a search, and PostgreSQL cannot compare
    a text holding one (a 500): refused at once (400). Form fields refuse it with a message of
    their own (``core.forms.no_control_characters``)."""
    values = (value for _key, values in request.args.lists() for value in values)
    if "\x00" in request.path or any("\x00" in value for value in values):
        abort(400)


def init_app(app: Flask) -> None:
    # Before any package adds its routes: each rule takes its converter when it is added.
    app.url_map.converters["int"] = IdConverter
    app.request_class = BoundedRequest
    app.before_request(refuse_nul_in_address)
    app.after_request(_headers)
