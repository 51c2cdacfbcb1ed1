"""Fixtures of the browser tests: the app served on 127.0.0.1 by a real HTTP server in a thread,
on the suite's database, and Debian's Chromium driven by Playwright.

The server and the browser live for the whole ``tests/browser`` package; the data the tests seed
is removed when the package ends, so the other tests find the database empty as usual. Each test
gets fresh browser contexts (no cookies), and fails when the server answered with an error it did
not mean (a 500) or the page logged a console error (a script or style refused by the CSP, a
missing file).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask, got_request_exception
from flask_babel import force_locale
from flask_babel import gettext as babel_gettext
from flask_babel import ngettext as babel_ngettext
from playwright.sync_api import expect, sync_playwright
from werkzeug.serving import make_server

import incidents.intake.receipts
from app import create_app
from extensions import db, limiter
from tests.browser.helpers import ARTIFACTS, CHROMIUM, CHROMIUM_FLAGS, DESKTOP, TIMEOUT_MS
from tests.conftest import _clean

# Fast receipt hashes, as in the incidents tests; production keeps RFC 9106's parameters.
incidents.intake.receipts.ARGON2 = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}


# A PDF or a busy machine can make a page slower than Playwright's default 5 seconds.
expect.set_options(timeout=TIMEOUT_MS)


class LiveServer:
    """The app behind werkzeug's threaded HTTP server on a free port of 127.0.0.1."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.errors: list[BaseException] = []
        got_request_exception.connect(self._record, app, weak=False)
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _record(self, sender, exception: BaseException, **extra) -> None:
        self.errors.append(exception)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


@pytest.fixture(scope="package")
def live_app(_schema, tmp_path_factory) -> Iterator[Flask]:
    """The app under test: CSRF on as in production, no rate limits (they have their own
    tests), no wait after a wrong receipt code. The limiter is set up (its hooks can only be
    added before the first request) and switched off; a test of a limit switches it on
    (``limits_on``)."""
    app = create_app(
        {
            "TESTING": False,
            "SQLALCHEMY_DATABASE_URI": _schema,
            "SECRET_KEY": "browser-tests",
            # The live server's host (its port is chosen when it starts).
            "PUBLIC_URL": "http://127.0.0.1",
            "RATELIMIT_ENABLED": True,
            "RECEIPT_DELAY_UNIT": 0.0,
            "INSTANCE_PATH": str(tmp_path_factory.mktemp("browser-instance")),
        }
    )
    limiter.enabled = False
    _clean(app)
    (ARTIFACTS / "axe.jsonl").unlink(missing_ok=True)  # this run's findings only
    yield app
    _clean(app)


@pytest.fixture
def limits_on(live_app, monkeypatch) -> Iterator[Flask]:
    """The rate limits of the app under test, on for one test, counted from nothing."""
    with live_app.app_context():
        limiter.reset()
    monkeypatch.setattr(limiter, "enabled", True)
    yield live_app
    with live_app.app_context():
        limiter.reset()


@pytest.fixture(scope="package")
def live_server(live_app) -> Iterator[LiveServer]:
    server = LiveServer(live_app)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="package")
def browser():
    if not Path(CHROMIUM).exists():
        message = f"Chromium is not installed at {CHROMIUM}: run scripts/system-deps.sh --test"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="package")
def curriculum_content(live_app) -> None:
    """The real lessons, course and pages, stored once for the package as the loader stores
    them."""
    from curriculum.content import load_library
    from curriculum.loader import load_content

    with live_app.app_context():
        load_content(load_library())
        db.session.commit()


@pytest.fixture
def seed(live_app) -> Callable:
    """``seed(fn, *args)`` runs ``fn`` in an app context of the app under test and returns what
    it returns; ORM objects come back detached, with their loaded attributes readable."""

    def run(fn: Callable, *args, **kwargs):
        with live_app.app_context():
            result = fn(*args, **kwargs)
            db.session.expunge_all()
            return result

    return run


@pytest.fixture
def tr(live_app) -> Callable:
    """``tr(locale, msgid, **values)``: the text as the catalogs give it in that language, so
    the tests find elements by the words a person reads. ``tr(locale, singular, plural, n)``
    for plural forms; ``tr(locale, lazy_label)`` for the lazy labels of forms and enums."""

    def translate(locale: str, msgid, *plural, **values) -> str:
        with live_app.test_request_context(), force_locale(locale):
            if not isinstance(msgid, str):  # a lazy label of a form or an enum
                return str(msgid)
            if plural:
                return str(babel_ngettext(msgid, *plural, **values))
            return str(babel_gettext(msgid, **values))

    return translate


class Browsing:
    """Opens browser contexts for one test and checks, at the end, that nothing went wrong
    quietly: no server error, no console error in any page."""

    def __init__(self, browser, server: LiveServer) -> None:
        self.browser = browser
        self.server = server
        self.contexts = []
        self.console_errors: list[str] = []
        self._errors_before = len(server.errors)

    def context(self, *, javascript: bool = True, viewport: dict | None = None, **options):
        context = self.browser.new_context(
            base_url=self.server.url,
            java_script_enabled=javascript,
            viewport=viewport or DESKTOP,
            accept_downloads=True,
            **options,
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.on("page", self._watch)
        self.contexts.append(context)
        return context

    def page(self, **options):
        return self.context(**options).new_page()

    def _watch(self, page) -> None:
        def on_console(message) -> None:
            if message.type != "error":
                return
            source = message.location.get("url", "")
            # A page's own status (a 400 for a form with errors, a 404 page) is the test's to
            # check; Chromium asks every site for /favicon.ico, and the app has none to give.
            if source == page.url or source.endswith("/favicon.ico"):
                return
            self.console_errors.append(f"{page.url}: {message.text} ({source})")

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.console_errors.append(f"{page.url}: {error}"))

    def close(self) -> None:
        for context in self.contexts:
            context.close()

    def check(self) -> None:
        errors = self.server.errors[self._errors_before :]
        assert not errors, f"the server failed: {errors!r}"
        assert not self.console_errors, "console errors:\n" + "\n".join(self.console_errors)


@pytest.fixture
def browsing(browser, live_server) -> Iterator[Browsing]:
    session = Browsing(browser, live_server)
    yield session
    session.close()
    session.check()
