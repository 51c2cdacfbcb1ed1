"""Qamqor: a school violence-prevention platform. ``flask --app app run``."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

import core
import curriculum
import incidents
import insights
import school
from core import anonymity, crypto, public_url
from core import config as settings
from extensions import babel, csrf, db, limiter, login_manager, migrate


def _secret_key(instance: Path) -> str:
    """A key that was not configured is generated once and kept in the instance folder."""
    path = instance / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):  # noqa: ARG001
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """The app, with the settings of ``core.config`` (checked; a bad one stops it here) read
    from the environment, or from ``config`` (as the tests do)."""
    instance_path = settings.instance_path(config, os.environ)
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path)
    settings.load(app.config, config, os.environ)
    # Before anything can make a link: no address, no production app (core.public_url).
    public_url.configure(app)
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    app.config.setdefault(
        "SQLALCHEMY_DATABASE_URI",
        app.config.get("DATABASE_URL") or f"sqlite:///{instance / 'qamqor.sqlite3'}",
    )
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(instance)
    if app.config["HTTPS"]:
        # Served over HTTPS: cookies only travel encrypted; HSTS is sent (core.security).
        app.config.update(SESSION_COOKIE_SECURE=True, PREFERRED_URL_SCHEME="https")
    if app.config["PROXY_COUNT"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)

    db.init_app(app)
    migrate.init_app(app, db)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    from core.i18n import select_locale

    babel.init_app(app, locale_selector=select_locale)

    core.init_app(app)
    school.init_app(app)
    curriculum.init_app(app)
    incidents.init_app(app)
    insights.init_app(app)
    if app.config["BENCH_HELLO"]:
        # The floor of Flask on this machine, for bench/serving.py only (never in production).
        app.add_url_rule("/bench/hello", "bench_hello", lambda: "hello")
    # Last: the anonymous and quiet paths, from the blueprints that declared them.
    anonymity.finish(app)
    # Every package's encrypted columns are known now: refuse to start with keys that cannot
    # read them.
    crypto.check_database(app)
    return app
