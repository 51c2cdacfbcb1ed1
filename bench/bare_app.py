"""The floor of the serving bench: a bare Flask app, none of Qamqor's request hooks, served by
gunicorn with the same settings as the real app (``gunicorn -c gunicorn.conf.py
bench.bare_app:app``: the same sync workers, worker class and access logger).

``/bench/hello`` answers "hello"; ``/healthz`` is there so that the bench's ``Gunicorn`` can tell
when it is up. The access logger asks the app for its quiet paths (``core.anonymity``): the bare
app declares none, so every request is logged, as ``/bench/hello`` is on the real app.
"""

from __future__ import annotations

from flask import Flask

from core.anonymity import _EXTENSION, QuietPaths

app = Flask(__name__)
app.extensions[_EXTENSION] = QuietPaths((), ())
app.add_url_rule("/bench/hello", "hello", lambda: "hello")
app.add_url_rule("/healthz", "healthz", lambda: "ok")
