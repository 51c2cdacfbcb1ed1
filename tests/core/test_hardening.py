"""Web hardening, on every page of the app (``tests/core/test_pages.py`` has the first checks).

- Every page type (every GET rule of the authorization table, static files, PDFs, CSV, redirects
  and error pages 400/403/404/405/413/500) sends a Content-Security-Policy without
  'unsafe-inline' or 'unsafe-eval', with frame-ancestors 'none'; X-Frame-Options,
  X-Content-Type-Options, a Referrer-Policy (no-referrer on anonymous pages), no-store; and no
  page or template relies on an inline script, style or event handler.
- Every cookie is HttpOnly and SameSite; behind a reverse proxy that says HTTPS, HSTS is sent.
- A request over the size limit gets the localized 413 page, and nothing is written.
- With CSRF on, every POST rule refuses a request without its token with the localized "form
  expired" page and writes nothing; the exemptions are exactly the survey's two anonymous pages
  (no cookie there). Over HTTPS the student's forms still work although they send no referrer.
- ``ruff check --select S`` (bandit) is clean, and each exception says why.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import pytest
from flask_babel import force_locale, gettext

import incidents.intake.receipts
from core.anonymity import is_quiet_path
from tests.test_authorization_matrix import fill, variants
from tests.two_schools import ANONYMOUS, Clients, World, build_world, fingerprint, module_app

# Fast receipt hashes here; production keeps RFC 9106's parameters (see incidents.intake.receipts).
incidents.intake.receipts.ARGON2 = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}

ROOT = Path(__file__).resolve().parents[2]


def is_anonymous_page(url: str) -> bool:
    """The pages that mark themselves anonymous (students, the survey, the public pages)."""
    path = url.split("?", 1)[0]
    return path in ("/r", "/s", "/learn", "/verify") or path.startswith(
        ("/r/", "/s/", "/learn/", "/leaflets/", "/verify/")
    )


def _methods() -> dict[str, set[str]]:
    """The methods of each rule, read from an app made for collection only."""
    from app import create_app

    with tempfile.TemporaryDirectory() as instance:
        app = create_app(
            {"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x", "INSTANCE_PATH": instance}
        )
        return {rule.rule: set(rule.methods) for rule in app.url_map.iter_rules()}


METHODS = _methods()


@pytest.fixture(scope="module")
def hard_app(_schema, tmp_path_factory):
    with module_app(_schema, tmp_path_factory.mktemp("hardening-instance")) as app:
        yield app


@pytest.fixture(scope="module")
def world(hard_app) -> World:
    return build_world()


@pytest.fixture(scope="module")
def clients(hard_app, world) -> Clients:
    return Clients(hard_app, world)


def assert_hardened(response, label: str, anonymous: bool = False) -> None:
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    directives = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, label
    assert directives.get("frame-ancestors") == ["'none'"], label
    assert directives.get("default-src") == ["'self'"], label
    assert directives.get("object-src") == ["'none'"], label
    assert directives.get("base-uri") == ["'none'"], label
    assert directives.get("form-action") == ["'self'"], label
    assert headers.get("X-Frame-Options") == "DENY", label
    assert headers.get("X-Content-Type-Options") == "nosniff", label
    expected_policy = {"no-referrer"} if anonymous else {"no-referrer", "same-origin"}
    assert headers.get("Referrer-Policy") in expected_policy, label
    for cookie in headers.getlist("Set-Cookie"):
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie, f"{label}: {cookie}"


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "an inline script"),
    (re.compile(r"\sstyle\s*=", re.I), "a style attribute"),
    (re.compile(r"<style[\s>]", re.I), "a style element"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "an event handler attribute"),
    (re.compile(r"javascript:", re.I), "a javascript: link"),
]


def assert_no_inline_code(text: str, label: str) -> None:
    for pattern, what in INLINE:
        found = pattern.search(text)
        assert found is None, (
            f"{label}: {what}: {text[max(0, found.start() - 60) : found.end() + 60]!r}"
        )


def rules_with(method: str):
    """Each rule of the table that takes ``method``, once, with the first role the table allows
    (an anonymous visitor when they may)."""
    seen = set()
    for rule, expect in variants():
        if rule in seen or method not in METHODS.get(rule, ()):
            continue
        seen.add(rule)
        role = ANONYMOUS if ANONYMOUS in expect.allow else sorted(expect.allow)[0]
        yield rule, expect, role


PAGES = list(rules_with("GET"))


@pytest.mark.parametrize(("rule", "expect", "role"), PAGES, ids=[p[0] for p in PAGES])
def test_every_page_sends_the_hardening_headers_and_no_inline_code(
    hard_app, world, clients, rule, expect, role
):
    url = fill(rule, expect, world.own, world)
    client = clients.make(role) if expect.drops_session else clients[role]
    response = client.get(url)
    label = f"GET {url} as {role}: {response.status_code}"
    assert response.status_code < 500, label
    assert_hardened(response, label, anonymous=is_anonymous_page(url))
    assert response.headers.get("Cache-Control") == "no-store", label
    if response.headers.get("Referrer-Policy") == "no-referrer":
        # A page that keeps nothing of the visit is not in the server's access log either.
        assert is_quiet_path(url, hard_app), f"{label}: anonymous, but gunicorn would log it"
    if response.mimetype == "text/html":
        assert_no_inline_code(response.get_data(as_text=True), label)


def test_static_files_and_error_pages_are_hardened_too(hard_app, clients):
    anonymous, teacher = clients[ANONYMOUS], clients["teacher"]
    with anonymous.get("/static/css/qamqor.css") as static:
        static.get_data()
    answers = {
        "static": static,
        "404": anonymous.get("/no-such-page"),
        "403": teacher.get("/admin/schools"),
        "405": teacher.get("/logout"),
        "400": anonymous.get("/learn", query_string={"q": "a\x00b"}),
        "400 (a second value)": anonymous.get("/learn", query_string="q=ok&q=a%00b"),
    }
    assert [r.status_code for r in answers.values()] == [200, 404, 403, 405, 400, 400]
    for name, response in answers.items():
        assert_hardened(response, name)
        assert_no_inline_code(response.get_data(as_text=True), name)


EXTRA_APPS = []


@pytest.fixture(scope="module", autouse=True)
def _close_extra_apps(hard_app):
    """The apps of ``another_app`` close their database connections at the end of the module
    (a connection left for the garbage collector is a ResourceWarning in a later test)."""
    yield
    from extensions import db

    for app in EXTRA_APPS:
        with app.app_context():
            db.engine.dispose()
    EXTRA_APPS.clear()


def another_app(hard_app, **config):
    """A second app on the same database and instance folder (the same data keys)."""
    from app import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": hard_app.config["SQLALCHEMY_DATABASE_URI"],
            "SECRET_KEY": "x",
            "INSTANCE_PATH": hard_app.instance_path,
            **config,
        }
    )
    EXTRA_APPS.append(app)
    return app


def test_a_server_error_page_is_hardened_and_localized(hard_app):
    app = another_app(hard_app)

    def broken():
        raise RuntimeError("boom")

    app.add_url_rule("/broken", "broken", broken)
    response = app.test_client().get("/broken", headers={"Accept-Language": "ru"})
    assert response.status_code == 500
    assert_hardened(response, "500")
    page = response.get_data(as_text=True)
    assert "boom" not in page and 'lang="ru"' in page
    with app.test_request_context(), force_locale("ru"):
        assert html.escape(gettext("Something went wrong on our side"), quote=False) in page


def test_no_template_has_inline_script_style_or_handlers():
    """What CSP would block must not be needed: checked in every template, page or not."""
    templates = [
        path
        for path in ROOT.rglob("templates/**/*.html")
        if ".venv" not in path.parts and "pdf" not in path.parts
    ]
    assert len(templates) > 50
    for path in templates:
        assert_no_inline_code(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))


def test_behind_a_proxy_that_says_https_hsts_is_sent_and_cookies_are_secure(hard_app):
    app = another_app(hard_app, HTTPS=True, PROXY_COUNT=1, PUBLIC_URL="https://qamqor.example")
    client = app.test_client()
    # The proxy speaks plain HTTP to the app and says what the browser used.
    plain = "http://qamqor.example"
    secure = client.get("/lang/kk", base_url=plain, headers={"X-Forwarded-Proto": "https"})
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    cookie = secure.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    # The same app reached over plain HTTP (a misconfigured proxy) does not claim HSTS.
    assert "Strict-Transport-Security" not in client.get("/healthz", base_url=plain).headers


def test_a_request_over_the_size_limit_gets_a_localized_413_and_writes_nothing(
    hard_app, world, clients
):
    hard_app.config["MAX_CONTENT_LENGTH"] = 20_000
    try:
        for role, url, field in (
            ("school_admin", "/staff/accounts/new", "full_name"),
            ("teacher", "/staff/my-reports/new", "description"),
            (ANONYMOUS, f"/r/{world.own['school_code']}", "description"),
        ):
            client = clients[role]
            with client.session_transaction() as session:
                session["locale"] = "ru"
            before = fingerprint()
            response = client.post(url, data={field: "ж" * 30_000})
            assert response.status_code == 413, url
            assert_hardened(response, url, anonymous=is_anonymous_page(url))
            page = response.get_data(as_text=True)
            assert 'lang="ru"' in page and CYRILLIC.search(page), url
            with hard_app.test_request_context(), force_locale("ru"):
                title = gettext("The file is too large")
            if not url.startswith("/r/"):  # the student's own 413 page is worded for a child
                assert html.escape(title, quote=False) in page, url
            assert fingerprint() == before, url
    finally:
        hard_app.config["MAX_CONTENT_LENGTH"] = 52 * 1024 * 1024


CYRILLIC = re.compile(r"[А-Яа-яӘәҒғҚқҢңӨөҰұҮүҺһІі]")
# The survey's two anonymous pages take no CSRF token: the one-time code is the secret and they
# set no cookie, so there is no session another site could ride on.
CSRF_EXEMPT = {"survey.start", "survey.answer"}


POSTS = list(rules_with("POST"))


@pytest.mark.parametrize(("rule", "expect", "role"), POSTS, ids=[p[0] for p in POSTS])
def test_every_post_without_its_csrf_token_gets_the_localized_expired_page(
    hard_app, world, clients, rule, expect, role
):
    url = fill(rule, expect, world.own, world)
    client = clients.make(role)
    with client.session_transaction() as session:
        session["locale"] = "kk"
    before = fingerprint()
    hard_app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post(url, data={"description": "x", "code": "1234"})
    finally:
        hard_app.config["WTF_CSRF_ENABLED"] = False
    label = f"POST {url} as {role}: {response.status_code}"
    page = response.get_data(as_text=True)
    with hard_app.test_request_context(), force_locale("kk"):
        expired = html.escape(gettext("This form has expired"), quote=False)
    assert expired != "This form has expired", "no Kazakh translation"
    if expect.endpoint in CSRF_EXEMPT:
        assert response.status_code == 200 and expired not in page, label
        return
    assert response.status_code == 400 and expired in page, label
    assert fingerprint() == before, f"{label}: written without a token"


def test_the_csrf_exemptions_are_exactly_the_surveys_cookieless_pages(hard_app, clients):
    csrf = hard_app.extensions["csrf"]
    exempt = {
        endpoint
        for endpoint, view in hard_app.view_functions.items()
        if f"{view.__module__}.{view.__name__}" in csrf._exempt_views
    }
    assert exempt == CSRF_EXEMPT and not csrf._exempt_blueprints
    for url in ("/s", "/s/thanks"):
        assert "Set-Cookie" not in clients.make(ANONYMOUS).get(url).headers, url


def test_over_https_the_students_forms_work_without_a_referrer(hard_app):
    """Student pages send no referrer; a strict HTTPS referrer check would refuse every report
    as an expired form. The token and the SameSite cookie are the CSRF protection."""
    from tests import factories

    app = another_app(
        hard_app, HTTPS=True, RATELIMIT_ENABLED=False, PUBLIC_URL="https://qamqor.example"
    )
    with app.app_context():
        school = factories.school("HTTPS school")
        school_id, code = school.id, school.code
    client = app.test_client()
    base = "https://qamqor.example"
    page = client.get(f"/r/{code}/danger", base_url=base).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post(
        f"/r/{code}/danger",
        base_url=base,
        data={"csrf_token": token, "description": "", "token": "b" * 32},
    )
    assert response.status_code == 200 and "expired" not in response.get_data(as_text=True)
    with app.app_context():
        from extensions import db
        from incidents.intake.models import Report

        stored = db.select(db.func.count()).where(Report.school_id == school_id)
        assert db.session.scalar(stored) == 1


# --- bandit (ruff S) ----------------------------------------------------------------------------

NOQA_S = re.compile(r"#\s*noqa:\s*([A-Z0-9, ]*S\d{3}[A-Z0-9, ]*)(.*)$")


def test_ruff_bandit_rules_pass_and_every_exception_says_why():
    result = subprocess.run(  # noqa: S603 - our own ruff, fixed arguments
        [sys.executable, "-m", "ruff", "check", "--select", "S", "--output-format", "json", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    findings = json.loads(result.stdout or "[]")
    assert findings == [], [f"{f['filename']}:{f['location']['row']} {f['code']}" for f in findings]
    unexplained = []
    for path in ROOT.rglob("*.py"):
        if ".venv" in path.parts or "migrations" in path.parts:
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines):
            found = NOQA_S.search(line)
            if not found:
                continue
            reason = found.group(2).strip(" -—")
            before = [text.strip() for text in lines[max(0, number - 3) : number]]
            if not reason and not any(text.startswith("#") for text in before):
                unexplained.append(f"{path.relative_to(ROOT)}:{number + 1}")
    assert not unexplained, "noqa for a bandit rule without a reason: " + ", ".join(unexplained)
    ignores = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]
    for pattern, codes in ignores.get("per-file-ignores", {}).items():
        if any(code.startswith("S") for code in codes):
            assert pattern in ("tests/**", "bench/**"), pattern
    assert not any(code.startswith("S") for code in ignores.get("ignore", []))


def test_security_md_names_only_tests_that_exist():
    """SECURITY.md says which test checks each promise: each one it names must exist."""
    text = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
    named, missing, last = 0, [], None
    for found in re.finditer(r"`(tests/[\w/]+\.py|…)::(\w+)`", text):
        path, name = found.groups()
        path = last if path == "…" else path
        last = path
        named += 1
        source = (ROOT / path).read_text(encoding="utf-8") if (ROOT / path).exists() else ""
        if not re.search(rf"^def {name}\(", source, re.M):
            missing.append(f"{path}::{name}")
    assert named > 50 and not missing, missing
