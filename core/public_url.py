"""The platform's own address, and the only way to make a link that leaves the request.

E-mails, posters, letters, certificates and survey slips carry absolute links. They are made from
``QAMQOR_PUBLIC_URL`` only, never from the request's Host header: whoever sends a request chooses
that header, and a counselor's notice that links to their host is a phishing lure. A production
app (neither DEBUG nor TESTING) does not start without the address; development and tests use
``DEV_PUBLIC_URL``. Requests for any other host are refused (400) through Flask's
``TRUSTED_HOSTS``: the address's host, plus the names listed in ``QAMQOR_TRUSTED_HOSTS``
(comma-separated, e.g. an internal name a health check uses).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, current_app, request
from flask_babel import gettext as _
from werkzeug.exceptions import SecurityError

DEV_PUBLIC_URL = "http://localhost:5000"
# Development reaches the app by either loopback name.
DEV_HOSTS = ("localhost", "127.0.0.1")


def _listed(value) -> list[str]:
    """``TRUSTED_HOSTS`` as set: a list (JSON in the environment) or a comma-separated text."""
    if not value:
        return []
    items = value.split(",") if isinstance(value, str) else value
    return [str(item).strip().lower() for item in items if str(item).strip()]


def configure(app: Flask) -> None:
    """Check ``PUBLIC_URL`` (or refuse to start) and derive ``TRUSTED_HOSTS`` from it."""
    url = (app.config.get("PUBLIC_URL") or "").strip().rstrip("/")
    extra = _listed(app.config.get("TRUSTED_HOSTS"))
    if not url:
        if not (app.debug or app.testing):
            raise RuntimeError(
                "QAMQOR_PUBLIC_URL is not set. Set it to the address people open Qamqor at "
                "(e.g. https://qamqor.example.kz): links in e-mails, posters and letters are "
                "made from it, and requests for any other host are refused."
            )
        url, extra = DEV_PUBLIC_URL, [*DEV_HOSTS, *extra]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise RuntimeError(
            f"QAMQOR_PUBLIC_URL must be a full http(s) address such as "
            f"https://qamqor.example.kz, not {url!r}."
        )
    app.config["PUBLIC_URL"] = url
    app.config["TRUSTED_HOSTS"] = list(dict.fromkeys([parts.hostname, *extra]))
    # First of all hooks: no other check (CSRF, limits) runs for a request to another host.
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_other_hosts)
    app.register_error_handler(SecurityError, _other_host)


def _refuse_other_hosts() -> None:
    if isinstance(request.routing_exception, SecurityError):
        raise request.routing_exception


def _other_host(_error: SecurityError):
    """A plain answer: no page can be drawn, its links would need the refused host."""
    message = _("This server does not answer for that host name. Open Qamqor at its usual address.")
    return message, 400, {"Content-Type": "text/plain; charset=utf-8"}


def external_url(endpoint: str, **values) -> str:
    """The absolute link of ``endpoint`` on the configured address (in or outside a request)."""
    parts = urlsplit(current_app.config["PUBLIC_URL"].rstrip("/"))
    current_app.inject_url_defaults(endpoint, values)
    adapter = current_app.url_map.bind(
        parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme
    )
    return adapter.build(endpoint, values, force_external=True)
