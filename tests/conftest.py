"""Fixtures: an app on a fresh database (SQLite, or PostgreSQL when QAMQOR_TEST_DATABASE_URL names
a server), a client, a CLI runner and a log-in helper."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import school.passwords
from app import create_app
from extensions import db

# Every app the tests make is reached at the test client's host, as a deployment is reached at
# its configured address (core.public_url: a production-like app does not start without it).
os.environ["QAMQOR_PUBLIC_URL"] = "http://localhost"

# Fast hashes in tests; production keeps argon2-cffi's defaults.
school.passwords.HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

PASSWORD = "correct horse battery"


class RequestClient(FlaskClient):
    """Each request runs in an app context of its own, as in production (its own ``g`` and
    database session); afterwards the test's session forgets what it had loaded. The answer is
    read and closed, as a server does once it has written it (what runs then, such as the mail
    of ``core.mail``, has run); ``buffered=False`` leaves that to the test."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.expire_all()
        return response


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    server = os.environ.get("QAMQOR_TEST_DATABASE_URL")
    if not server:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        return
    # A database of its own for this run, so parallel runs never collide.
    name = f"qamqor_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(server).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def _schema(database_url, tmp_path_factory):
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test",
            "INSTANCE_PATH": str(tmp_path_factory.mktemp("instance")),
        }
    )
    with app.app_context():
        db.create_all()
        from flask_migrate import stamp

        stamp()
        db.engine.dispose()
    return database_url


def _clean(app) -> None:
    with app.app_context():
        db.session.remove()
        tables = [t.name for t in db.metadata.sorted_tables]
        with db.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                quoted = ", ".join(f'"{name}"' for name in tables)
                connection.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
            else:
                for name in reversed(tables):
                    connection.execute(text(f'DELETE FROM "{name}"'))  # noqa: S608 - our table names
        db.engine.dispose()


@pytest.fixture
def app(_schema, tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": _schema,
            "SECRET_KEY": "test",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "INSTANCE_PATH": str(tmp_path / "instance"),
        }
    )
    app.test_client_class = RequestClient
    with app.app_context():
        yield app
    _clean(app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def login(client):
    """``login(user)`` logs the user in with the factories' password; returns the response."""

    def do(user, password: str = PASSWORD, follow: bool = True, using=None):
        using = using or client
        response = using.post("/login", data={"email": user.email, "password": password})
        if response.status_code == 302 and "/login/code" in response.headers["Location"]:
            response = using.post("/login/code", data={"code": totp_code(user)})
        if follow and response.status_code == 302:
            response = using.get(response.headers["Location"], follow_redirects=True)
        return response

    return do


def totp_code(user) -> str:
    """The authenticator's code for a time step the account has not used yet."""
    import pyotp

    db.session.refresh(user)
    totp = pyotp.TOTP(user.totp_secret)
    now = datetime.now(UTC)
    step = totp.timecode(now)
    if user.totp_last_step is not None and user.totp_last_step >= step:
        now += timedelta(seconds=totp.interval)
    return totp.at(now)
