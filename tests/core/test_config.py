"""Every setting in one place (core.config): a bad value or an unknown ``QAMQOR_`` variable stops
the app at start-up with a message naming it; the README's table is the module's; the key check
runs once every package is in, at the end of ``create_app``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask

import core
import incidents
import school
from app import create_app
from core import config, crypto
from core.config import ConfigError
from core.crypto import DataKeyError
from extensions import db
from tests import factories
from tests.incidents.factories import report as student_report

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def start(tmp_path, monkeypatch):
    """``start(VARIABLE=value, ...)``: create an app with these environment variables."""

    def do(**environ):
        for name, value in environ.items():
            monkeypatch.setenv(name, value)
        return create_app(
            {
                "TESTING": True,
                "SQLALCHEMY_DATABASE_URI": "sqlite://",
                "SECRET_KEY": "x",
                "INSTANCE_PATH": str(tmp_path / "instance"),
            }
        )

    return do


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("QAMQOR_PROXY_COUNT", "two", "whole number"),
        ("QAMQOR_STAFF_IDLE_MINUTES", "0", "whole number from 1"),
        ("QAMQOR_MAIL_PORT", "70000", "from 1 to 65535"),
        ("QAMQOR_HTTPS", "maybe", "true or false"),
        ("QAMQOR_PUBLIC_URL", "qamqor.example.kz", "http(s) address"),
        ("QAMQOR_QUICK_EXIT_URL", "javascript:alert(1)", "http(s) address"),
        ("QAMQOR_REPORT_RATE_LIMIT", "lots", "rate limit"),
        ("QAMQOR_RECEIPT_DELAY_MAX", "-1", "seconds"),
        ("QAMQOR_MAIL_TIMEOUT", "nan", "seconds"),
        ("QAMQOR_RESPONSE_TARGETS", '{"high": "soon"}', "hours"),
        ("QAMQOR_RESPONSE_TARGETS", "[1, 2]", "JSON object"),
        ("QAMQOR_TRUSTED_HOSTS", '["a", 1]', "names"),
    ],
)
def test_a_bad_value_stops_the_app_naming_the_variable_and_the_value(start, variable, value, says):
    with pytest.raises(ConfigError) as error:
        start(**{variable: value})
    message = str(error.value)
    assert variable in message
    assert repr(value) in message
    assert says in message


def test_an_unknown_role_that_needs_a_second_factor_stops_the_app(start):
    with pytest.raises(ConfigError, match="QAMQOR_TWO_FACTOR_ROLES names 'janitor'"):
        start(QAMQOR_TWO_FACTOR_ROLES="admin,janitor")


def test_a_response_target_for_an_unknown_priority_stops_the_app(start):
    with pytest.raises(ConfigError, match="QAMQOR_RESPONSE_TARGETS names 'urgent'"):
        start(QAMQOR_RESPONSE_TARGETS='{"urgent": 2}')


def test_a_misspelt_variable_stops_the_app_rather_than_being_ignored(start):
    with pytest.raises(ConfigError, match="Unknown setting QAMQOR_PUBLC_URL"):
        start(QAMQOR_PUBLC_URL="https://qamqor.example.kz")


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("QAMQOR_DATABASE_URL", "postgresql://qamqor:hunter2@db:notaport/qamqor", "SQLAlchemy"),
        ("QAMQOR_RATELIMIT_STORAGE_URI", "redis:/:hunter2@127.0.0.1:6379", "rate-limit storage"),
    ],
)
def test_a_bad_address_is_refused_without_printing_its_password(start, variable, value, says):
    with pytest.raises(ConfigError) as error:
        start(**{variable: value})
    assert variable in str(error.value)
    assert says in str(error.value)
    assert "hunter2" not in str(error.value)


def test_the_dictionary_given_to_create_app_is_checked_too(tmp_path):
    with pytest.raises(ConfigError, match="QAMQOR_PROXY_COUNT"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "PROXY_COUNT": "-1"})


def test_values_are_read_once_into_their_types(start):
    app = start(
        QAMQOR_PROXY_COUNT="1",
        QAMQOR_HTTPS="true",
        QAMQOR_TRUSTED_HOSTS="a.example.kz, b.example.kz",
        QAMQOR_RESPONSE_TARGETS='{"high": 2}',
        QAMQOR_MAIL_TIMEOUT="2.5",
        QAMQOR_DATA_KEY_CHECK="false",
    )
    assert app.config["PROXY_COUNT"] == 1
    assert app.config["HTTPS"] is True and app.config["SESSION_COOKIE_SECURE"] is True
    assert {"a.example.kz", "b.example.kz"} <= set(app.config["TRUSTED_HOSTS"])
    assert app.config["RESPONSE_TARGETS"] == {"high": 2.0}
    assert app.config["MAIL_TIMEOUT"] == 2.5
    assert app.config["DATA_KEY_CHECK"] is False
    # Unset: the default, and each app has its own copy of it.
    assert app.config["TWO_FACTOR_ROLES"] == config.default("TWO_FACTOR_ROLES")
    app.config["TWO_FACTOR_ROLES"].append("teacher")
    assert "teacher" not in config.default("TWO_FACTOR_ROLES")


README_TABLE = re.compile(
    r"<!-- settings: made by `python -m core\.config` -->\n(.*?)<!-- end of settings -->", re.S
)


def test_the_readme_table_is_the_modules_list():
    """Both ways: a setting missing from the README, or a row for a setting that is gone, or a
    changed default, fails here. ``python -m core.config`` prints the table to paste."""
    found = README_TABLE.search((ROOT / "README.md").read_text())
    assert found, "README.md has lost the settings table's markers"
    assert found.group(1) == config.markdown_table()


SOURCES = ("*.py", "*.md", "*.html", "*.sh", "Makefile", "*.toml", "*.cfg")


def test_every_qamqor_variable_named_anywhere_is_a_setting():
    """A variable that a file (code, README, SECURITY.md, a template, a script) names is one of
    the settings, or one that only the tests and the benchmarks read."""
    known = {s.variable for s in config.SETTINGS.values()} | set(config.NOT_APP_SETTINGS)
    named: dict[str, str] = {}
    for pattern in SOURCES:
        for path in ROOT.rglob(pattern):
            if {".venv", ".git", "node_modules"} & set(path.parts) or path.name == "test_config.py":
                continue
            for name in re.findall(r"QAMQOR_[A-Z][A-Z0-9_]*[A-Z0-9]", path.read_text("utf-8")):
                named.setdefault(name, str(path.relative_to(ROOT)))
    stray = {name: where for name, where in named.items() if name not in known}
    assert not stray, f"not in core.config: {stray}"


def test_every_setting_is_read_by_the_app():
    """No setting is listed that nothing reads (the other direction of the list above)."""
    code = "\n".join(
        path.read_text("utf-8")
        for folder in ("core", "school", "incidents", "insights", "curriculum")
        for path in (ROOT / folder).rglob("*.py")
        if path.name != "config.py"
    ) + (ROOT / "app.py").read_text("utf-8")
    # Read by config.instance_path itself, and by Flask-Limiter.
    elsewhere = {"INSTANCE_PATH", "RATELIMIT_ENABLED"}
    unread = [name for name in config.SETTINGS if name not in elsewhere and f'"{name}"' not in code]
    assert not unread


def test_the_key_check_runs_at_the_end_of_create_app_not_when_incidents_is_set_up(app, tmp_path):
    school_row = factories.school()
    student_report(school_row, description="Кілт басқа")
    db.session.commit()
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    wrong = crypto.encode_key(crypto.new_key())
    settings = {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x", "DATA_KEY": wrong}

    # Setting up core, school and incidents on their own reads no encrypted column.
    bare = Flask("bare", instance_path=str(tmp_path))
    config.load(bare.config, settings, {})
    db.init_app(bare)
    core.init_app(bare)
    school.init_app(bare)
    incidents.init_app(bare)

    # The whole app refuses to start, saying what to do.
    with pytest.raises(DataKeyError) as error:
        create_app({**settings, "INSTANCE_PATH": str(tmp_path / "whole")})
    message = str(error.value)
    assert "reports.description" in message
    assert "QAMQOR_DATA_KEY" in message
