"""Every setting of Qamqor, in one place: its type, default, check and meaning.

Over 400 lines by design: it is the one list of every setting, and most of its lines are that
list.

A setting such as ``PUBLIC_URL`` comes from the environment variable ``QAMQOR_PUBLIC_URL`` (or from the dictionary
given to ``create_app``, as the tests do) and is checked when the app starts: a bad value, or an
unknown ``QAMQOR_`` variable (a typo would otherwise be ignored without a word), stops the app
with a message naming the variable and the value. The app then reads the checked, typed value
from ``app.config``. The README's configuration table is made from this list
(``python -m core.config``; tests/core/test_config.py checks that they agree).

Over 400 lines for one reason: the list of settings, which belongs in one file.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Mapping
from copy import deepcopy
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PREFIX = "QAMQOR_"

# Not settings of the app: variables that only the tests and the benchmarks read.
NOT_APP_SETTINGS = {
    "QAMQOR_TEST_DATABASE_URL": "tests: the PostgreSQL server to run the suite on (tests/conftest.py)",
    "QAMQOR_TEST_PG_URL": "make test-pg: the PostgreSQL server (scripts/with-postgres.sh)",
    "QAMQOR_BENCH_DATABASE_URL": "bench/: the PostgreSQL server the benchmarks use",
    "QAMQOR_CHROMIUM": "tests/browser/: the Chromium to drive",
}

# Flask's and its extensions' fixed settings: not configurable, the same in every deployment.
FIXED: dict[str, Any] = {
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_NAME": "qamqor",
    # Five files of 10 MB each, plus the form itself.
    "MAX_CONTENT_LENGTH": 52 * 1024 * 1024,
    "BABEL_DEFAULT_LOCALE": "kk",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Almaty",
    "RATELIMIT_HEADERS_ENABLED": False,
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "WTF_CSRF_TIME_LIMIT": 4 * 3600,
    # The token (and the SameSite session cookie) is the CSRF check. Flask-WTF's extra HTTPS
    # check wants a Referer header, which the student pages never send (no-referrer): with it,
    # every student form over HTTPS was refused as expired.
    "WTF_CSRF_SSL_STRICT": False,
}


class ConfigError(RuntimeError):
    """A setting has a value the app cannot run with."""


@dataclass(frozen=True)
class Kind:
    """How a value is read: ``parse`` turns text (or an already typed value) into the value, or
    raises ``ValueError`` saying what was expected."""

    describe: str
    parse: Callable[[Any], Any]


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be text")
    return value


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in ("true", "1", "yes", "on"):
        return True
    if lowered in ("false", "0", "no", "off", ""):
        return False
    raise ValueError("must be true or false")


def integer(lowest: int, highest: int | None = None) -> Kind:
    span = f"from {lowest}" if highest is None else f"from {lowest} to {highest}"

    def parse(value: Any) -> int:
        if isinstance(value, bool | float):
            raise ValueError(f"must be a whole number {span}")
        try:
            number = int(str(value).strip())
        except ValueError:
            raise ValueError(f"must be a whole number {span}") from None
        if number < lowest or (highest is not None and number > highest):
            raise ValueError(f"must be a whole number {span}")
        return number

    return Kind(f"whole number {span}", parse)


def seconds(lowest: float = 0) -> Kind:
    def parse(value: Any) -> float:
        try:
            number = float(str(value).strip())
        except ValueError:
            raise ValueError(f"must be a number of seconds, at least {lowest:g}") from None
        if not number >= lowest or number == float("inf"):
            raise ValueError(f"must be a number of seconds, at least {lowest:g}")
        return number

    return Kind("seconds", parse)


def _url(schemes: Iterable[str], what: str, describe: str, *, empty: bool = True) -> Kind:
    allowed = tuple(schemes)

    def parse(value: Any) -> str:
        text = _text(value).strip()
        if not text and empty:
            return ""
        parts = urlsplit(text)
        if parts.scheme not in allowed or not (parts.netloc or parts.scheme == "memory"):
            raise ValueError(f"must be {what}")
        return text

    return Kind(describe, parse)


def _database_url(value: Any) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    text = _text(value).strip()
    if not text:
        return ""
    try:
        make_url(text)
    except (ArgumentError, ValueError):
        raise ValueError("must be an SQLAlchemy database URL") from None
    return text


def _storage_uri(value: Any) -> str:
    from limits.storage import SCHEMES

    text = _text(value).strip()
    if "://" not in text or text.split("://", 1)[0] not in SCHEMES:
        raise ValueError("must be a rate-limit storage such as memory:// or redis://host:6379/0")
    return text


def _rate_limit(value: Any) -> str:
    from limits import parse_many

    text = _text(value).strip()
    try:
        parse_many(text)
    except ValueError:
        raise ValueError("must be a rate limit such as '200 per hour;1000 per day'") from None
    return text


def _names(value: Any) -> list[str]:
    """A comma-separated text, or a list (JSON in the environment)."""
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.startswith("["):
            try:
                value = json.loads(stripped)
            except ValueError:
                raise ValueError("must be names separated by commas") from None
        else:
            value = stripped.split(",")
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        raise ValueError("must be names separated by commas")
    return [item.strip() for item in value if item.strip()]


def _hours_by_name(value: Any) -> dict[str, float]:
    """A JSON object of names to hours, e.g. ``{"high": 2}``."""
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else {}
        except ValueError:
            raise ValueError('must be a JSON object of hours, such as {"high": 2}') from None
    if not isinstance(value, Mapping):
        raise ValueError('must be a JSON object of hours, such as {"high": 2}')
    hours = {}
    for key, number in value.items():
        if isinstance(number, bool) or not isinstance(number, int | float) or number <= 0:
            raise ValueError(f"must give a positive number of hours for {key!r}")
        hours[str(key)] = float(number)
    return hours


def _zones_by_name(value: Any) -> dict[str, str]:
    """A JSON object of region ISO codes to IANA time zones, e.g. ``{"KZ-71": "Asia/Almaty"}``."""
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else {}
        except ValueError:
            raise ValueError(
                'must be a JSON object of zones, such as {"KZ-71": "Asia/Almaty"}'
            ) from None
    if not isinstance(value, Mapping):
        raise ValueError('must be a JSON object of zones, such as {"KZ-71": "Asia/Almaty"}')
    zones = {}
    for key, name in value.items():
        try:
            ZoneInfo(str(name))
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"names an unknown time zone for {key!r}: {name!r}") from None
        zones[str(key)] = str(name)
    return zones


TEXT = Kind("text", _text)
BOOLEAN = Kind("true or false", _boolean)
NAMES = Kind("names, comma-separated", _names)
RATE_LIMIT = Kind("rate limit", _rate_limit)
HOURS_BY_NAME = Kind("JSON object", _hours_by_name)
ZONES_BY_REGION = Kind("JSON object", _zones_by_name)
HTTP_URL = _url(
    ("http", "https"), "an http(s) address such as https://qamqor.example.kz", "http(s) address"
)
DATABASE_URL = Kind("SQLAlchemy URL", _database_url)
STORAGE_URI = Kind("storage URI", _storage_uri)


@dataclass(frozen=True)
class Setting:
    name: str
    kind: Kind
    default: Any
    meaning: str
    # The default as the README says it, when the value alone does not say it.
    default_text: str = ""
    # May hold a password or key: a message never repeats the value.
    secret: bool = False

    @property
    def variable(self) -> str:
        return PREFIX + self.name

    def check(self, value: Any) -> Any:
        try:
            return self.kind.parse(value)
        except ValueError as error:
            shown = (
                "(the value is not shown: it may hold a password)" if self.secret else repr(value)
            )
            raise ConfigError(
                f"The setting {self.variable} {error}, not {shown}. "
                f"Change it (or unset it to use the default) and start again."
            ) from None


def _s(name, kind, default, meaning, default_text="", secret=False):
    return Setting(name, kind, default, meaning, default_text, secret)


ROLES_WITH_TWO_FACTOR = ["admin", "school_admin", "counselor", "partner", "analyst", "desk_officer"]

SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in [
        _s(
            "PUBLIC_URL",
            HTTP_URL,
            "",
            "the address people open Qamqor at (`https://qamqor.example.kz`): every link in e-mails, on posters, certificates and survey slips is made from it, never from the request's Host header; requests for any other host are refused (400)",
            "none: required in production (`http://localhost:5000` in development and tests)",
        ),
        _s(
            "TRUSTED_HOSTS",
            NAMES,
            [],
            "further host names the app answers for, comma-separated (an internal name a load balancer's health check uses, say)",
            "none",
        ),
        _s(
            "DATABASE_URL",
            DATABASE_URL,
            "",
            "SQLAlchemy URL; PostgreSQL: `postgresql+psycopg://user:password@host/db`",
            "SQLite file `instance/qamqor.sqlite3`",
            secret=True,
        ),
        _s(
            "INSTANCE_PATH",
            TEXT,
            "",
            "where the SQLite database, keys and uploads live",
            "`./instance`",
        ),
        _s(
            "SECRET_KEY",
            TEXT,
            "",
            "signs sessions; must be the same on every worker",
            "generated once into `instance/secret_key`",
        ),
        _s("HTTPS", BOOLEAN, False, "set to `true` when served over HTTPS: Secure cookies, HSTS"),
        _s(
            "PROXY_COUNT",
            integer(0, 10),
            0,
            "how many reverse proxies stand in front (trust their `X-Forwarded-*`)",
        ),
        _s(
            "TWO_FACTOR_ROLES",
            NAMES,
            ROLES_WITH_TWO_FACTOR,
            "roles that must log in with a second factor",
            "`" + ",".join(ROLES_WITH_TWO_FACTOR) + "`",
        ),
        _s(
            "STAFF_IDLE_MINUTES",
            integer(1),
            30,
            "staff sessions end after this many minutes without activity",
        ),
        _s(
            "RATELIMIT_ENABLED",
            BOOLEAN,
            True,
            "`false` turns every rate limit off (benchmarks only; never in production)",
        ),
        _s(
            "RATELIMIT_STORAGE_URI",
            STORAGE_URI,
            "memory://",
            "rate-limit storage; with several workers: `redis://127.0.0.1:6379/0`",
            secret=True,
        ),
        _s(
            "REPORT_RATE_LIMIT",
            RATE_LIMIT,
            "200 per hour",
            "reports saved from one address (keyed by a keyed hash of the address, kept only in the limiter's storage; one address may be a whole school)",
        ),
        _s(
            "SCHOOL_REPORT_RATE_LIMIT",
            RATE_LIMIT,
            "300 per hour",
            "reports one school receives, whatever the address (a school sends from one Wi-Fi address: the report limits count saved reports only)",
        ),
        _s(
            "REPORT_ATTEMPT_LIMIT",
            RATE_LIMIT,
            "1000 per hour",
            "every send of the report and danger forms from one address, saved or not (a backstop for floods of forms that are never saved)",
        ),
        _s(
            "RECEIPT_RATE_LIMIT",
            RATE_LIMIT,
            "10 per minute;100 per day",
            "receipt codes tried from one address",
        ),
        _s(
            "MESSAGE_RATE_LIMIT",
            RATE_LIMIT,
            "30 per 10 minutes",
            "messages a student sends in a conversation from one address",
        ),
        _s(
            "RECEIPT_DELAY_UNIT",
            seconds(),
            0.5,
            "the first wait after a wrong receipt code; it doubles with each further wrong code",
        ),
        _s("RECEIPT_DELAY_MAX", seconds(), 8.0, "the longest wait after wrong receipt codes"),
        _s(
            "QUICK_EXIT_URL",
            HTTP_URL,
            "",
            'where the students\' "quick exit" leads',
            "our own neutral page",
        ),
        _s(
            "REPORT_FORM_CACHE_SECONDS",
            seconds(),
            60.0,
            "how long a worker keeps a school's report form (its classes and categories) before reading it again",
        ),
        _s(
            "MAIL_SERVER",
            TEXT,
            "",
            "SMTP server for staff notifications",
            "none (mail is written to the log)",
        ),
        _s("MAIL_PORT", integer(1, 65535), 25, "SMTP port"),
        _s("MAIL_SENDER", TEXT, "qamqor@localhost", "the sender address of notices"),
        _s("MAIL_USE_TLS", BOOLEAN, False, "STARTTLS to the mail server"),
        _s("MAIL_USERNAME", TEXT, "", "SMTP user name (none: no log-in)", "none"),
        _s("MAIL_PASSWORD", TEXT, "", "SMTP password", "none"),
        _s(
            "MAIL_TIMEOUT",
            seconds(0.1),
            5.0,
            "how long the mail server may take to connect and to answer each command; notices are sent after the page's answer, never before it, and a worker whose try failed leaves them to `mail send` for a minute",
        ),
        _s(
            "DATA_KEY",
            TEXT,
            "",
            "the AES-256 key(s) that encrypt reports, messages, case notes and uploads (base64 of 32 bytes, newest first, comma-separated; `flask --app app crypto generate-key`); the same on every worker, and kept apart from database backups: without it nothing written can be read",
            "generated once into `instance/data_key`",
        ),
        _s(
            "DATA_KEY_CHECK",
            BOOLEAN,
            True,
            "at start-up, refuse to run if the keys cannot read the database; `false` only to run `backup restore` after losing `instance/`",
        ),
        _s(
            "AUDIT_KEY",
            TEXT,
            "",
            "the key of the audit log's hash chain (HMAC-SHA256); with `instance/audit_head`, the newest entry's number and hash written after each commit, `flask --app app audit verify` finds rows changed, deleted or cut off the end by someone who holds the database but not the instance folder; the same on every worker, backed up with the other keys",
            "generated once into `instance/audit_key`",
        ),
        _s(
            "RECEIPT_PEPPER",
            TEXT,
            "",
            "the installation-wide key of receipt-code hashes; back it up with the database: without it no receipt code works",
            "generated once into `instance/receipt_pepper`",
        ),
        _s(
            "STATISTICS_SECRET",
            TEXT,
            "",
            "the key of the draws that round published statistics up or down; keep it with the database (a new one gives every count a new draw) and secret (with it and the exact counts the draws can be undone)",
            "generated once into `instance/statistics_secret`",
        ),
        _s(
            "RESPONSE_TARGETS",
            HOURS_BY_NAME,
            {},
            'hours to the first response by priority (`critical`, `high`, `normal`, `low`), over the built-in targets of `incidents/cases/deadlines.py`; e.g. `{"high": 2}`',
            "none (the built-in targets)",
        ),
        _s(
            "REGION_TIME_ZONES",
            ZONES_BY_REGION,
            {},
            'a time zone for a region\'s working hours, by the region\'s ISO code, over the platform\'s zone; e.g. `{"KZ-71": "Asia/Almaty"}`',
            "none (the platform's zone)",
        ),
        _s(
            "REFERRAL_ANSWER_DAYS",
            integer(1),
            3,
            "a referral counts as answered in time on the programme evidence page when the body acknowledges it within this many days of sending",
        ),
        _s(
            "RETENTION_DAYS_CLOSED_CASES",
            integer(1),
            1095,
            "after this many days a closed case's texts, messages and files are purged by `flask --app app incidents purge` (statistics stay)",
            "1095 (three years)",
        ),
        _s(
            "CURRICULUM_CONTENT_DIR",
            TEXT,
            "",
            "the folder `flask --app app curriculum load` reads the lessons from",
            "the lessons shipped in `curriculum/content`",
        ),
        _s(
            "BENCH_HELLO",
            BOOLEAN,
            False,
            "bench/serving.py only: adds `/bench/hello`, the floor of Flask (never in production)",
        ),
    ]
}


def default(name: str) -> Any:
    return deepcopy(SETTINGS[name].default)


def instance_path(overrides: Mapping[str, Any] | None, environ: Mapping[str, str]) -> str | None:
    """The instance folder, needed before the app is made."""
    value = (overrides or {}).get("INSTANCE_PATH") or environ.get(PREFIX + "INSTANCE_PATH")
    if not value:
        return None
    return SETTINGS["INSTANCE_PATH"].check(str(value)) or None


def load(
    config: dict[str, Any], overrides: Mapping[str, Any] | None, environ: Mapping[str, str]
) -> None:
    """Fill ``config`` (an app's) with the fixed settings and every setting, checked: from
    ``overrides`` (``create_app``'s dictionary), else the environment, else the default. Any
    other key of ``overrides`` (Flask's own, such as ``TESTING``) is taken as it is."""
    overrides = dict(overrides or {})
    unknown = sorted(
        key
        for key in environ
        if key.startswith(PREFIX)
        and key[len(PREFIX) :] not in SETTINGS
        and key not in NOT_APP_SETTINGS
    )
    if unknown:
        raise ConfigError(
            f"Unknown setting {', '.join(unknown)}: Qamqor has no such setting (a typo?). "
            f"The settings are listed in the README (python -m core.config)."
        )
    config.update(deepcopy(FIXED))
    for setting in SETTINGS.values():
        if setting.name in overrides:
            config[setting.name] = setting.check(overrides.pop(setting.name))
        elif setting.variable in environ:
            config[setting.name] = setting.check(environ[setting.variable])
        else:
            config[setting.name] = default(setting.name)
    config.update(overrides)


def check_choices(config: Mapping[str, Any], name: str, allowed: Iterable[str]) -> None:
    """A package that knows the choices checks a list of names against them at start-up."""
    allowed = list(allowed)
    wrong = [value for value in config[name] if value not in allowed]
    if wrong:
        raise ConfigError(
            f"The setting {PREFIX}{name} names {', '.join(map(repr, wrong))}, which is not one "
            f"of {', '.join(allowed)}. Change it and start again."
        )


def markdown_table() -> str:
    """The README's table of settings."""
    lines = ["| Variable | Type | Default | What it is |", "|---|---|---|---|"]
    for setting in SETTINGS.values():
        shown = setting.default_text or (
            f"`{setting.default}`" if setting.default not in ("", [], {}) else "none"
        )
        if isinstance(setting.default, bool):
            shown = "`true`" if setting.default else "`false`"
        lines.append(
            f"| `{setting.variable}` | {setting.kind.describe} | {shown} | {setting.meaning} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(markdown_table())
