"""gunicorn settings: ``gunicorn -c gunicorn.conf.py`` (environment variables still override).

The access log is on for staff pages but never records a request to the anonymous pages: the
student pages under /r, the public front door, language switches and static files (see
``core.anonymity.is_quiet_path``, which reads the path as the router does: ``//r/demo01`` is
``/r/demo01``), nor for any page that marked itself anonymous (``QUIET_ENVIRON_KEY``). For those,
no line is written at all: no address, no user agent, no path.

The workers are gunicorn's sync workers whose own error pages (a request gunicorn cannot read, a
worker stopped at its time-out) are in Kazakh, Russian and English (``core.server_pages``).
Everything else uses gunicorn's defaults.
"""

from __future__ import annotations

import os

from gunicorn.glogging import Logger

from core.anonymity import is_quiet_path
from core.security import QUIET_ENVIRON_KEY

wsgi_app = "app:create_app()"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
accesslog = "-"
worker_class = "core.server_pages.LocalizedSyncWorker"


class QuietAccessLogger(Logger):
    """gunicorn's logger, minus the access lines of the anonymous pages."""

    def access(self, resp, req, environ, request_time):
        if environ.get(QUIET_ENVIRON_KEY) or is_quiet_path(environ.get("PATH_INFO") or "/"):
            return
        super().access(resp, req, environ, request_time)


logger_class = QuietAccessLogger
