"""gunicorn settings: ``gunicorn -c gunicorn.conf.py`` (environment variables still override).

The access log is on for staff pages but never records a request to the anonymous pages: the
paths that the app's blueprints declare anonymous or quiet (``core.anonymity``: the student
pages under /r, the survey under /s, the public pages, the language switch), the public front
door and static files, read as the router reads them (``//r/demo01`` is ``/r/demo01``); nor any
request the app flagged anonymous (``QUIET_ENVIRON_KEY``). For those, no line is written at all:
no address, no user agent, no path. Each worker reads the paths from its app once it is loaded
(``post_worker_init``); until then it logs no request at all.

The workers are gunicorn's sync workers whose own error pages (a request gunicorn cannot read, a
worker stopped at its time-out) are in Kazakh, Russian and English (``core.server_pages``).
Everything else uses gunicorn's defaults.
"""

from __future__ import annotations

import os

from gunicorn.glogging import Logger

from core.anonymity import quiet_paths
from core.security import QUIET_ENVIRON_KEY

wsgi_app = "app:create_app()"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
accesslog = "-"
worker_class = "core.server_pages.LocalizedSyncWorker"


class QuietAccessLogger(Logger):
    """gunicorn's logger, minus the access lines of the anonymous pages."""

    paths = None  # the app's QuietPaths, once the worker has loaded the app

    def access(self, resp, req, environ, request_time):
        path = environ.get("PATH_INFO") or "/"
        if environ.get(QUIET_ENVIRON_KEY) or self.paths is None or self.paths.is_quiet(path):
            return
        super().access(resp, req, environ, request_time)


logger_class = QuietAccessLogger


def post_worker_init(worker):
    """The worker's app is loaded: its blueprints' declarations name the quiet paths."""
    worker.log.paths = quiet_paths(worker.wsgi)
