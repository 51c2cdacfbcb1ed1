"""gunicorn, started with gunicorn.conf.py, writes no access line for the anonymous pages."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str) -> None:
    # Our own server on localhost, over http: the scheme is fixed by the test.
    request = urllib.request.Request(url, headers={"User-Agent": "QuietCheck/1.0"})  # noqa: S310
    with contextlib.suppress(urllib.error.HTTPError):
        urllib.request.urlopen(request, timeout=10).read()  # noqa: S310


def test_gunicorn_logs_staff_requests_but_not_student_ones(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        "QAMQOR_INSTANCE_PATH": str(tmp_path / "instance"),
        "QAMQOR_SECRET_KEY": "test",
        "QAMQOR_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "QAMQOR_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    log = (tmp_path / "access.log").open("w+")
    server = subprocess.Popen(  # noqa: S603 - fixed arguments
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stdout=log,  # the access log ("-"); the error log goes to stderr
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).read()  # noqa: S310 - local http
                break
            except OSError:
                time.sleep(0.1)
        for path in (
            "/r/exit",
            "/r/check",
            "/static/css/incidents.css",
            "/lang/ru?next=/r/exit",
            "/s",
            "/learn",
        ):
            fetch(base + path)
        fetch(base + "/healthz?after")
        time.sleep(0.5)
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.seek(0)
        output = log.read()
        log.close()
    assert "GET /healthz?after" in output  # the access log is on
    assert "/r/" not in output and "/static/" not in output and "/lang/" not in output
    assert "GET /s" not in output and "/learn" not in output  # survey and awareness pages
    assert output.count("QuietCheck/1.0") == 1  # of seven requests, only /healthz?after


# Ways of writing an anonymous page's address that the router still serves (or redirects to
# it), and their neighbours: none may leave a line with the address or the agent (issue 13,
# finding 6).
VARIANTS = [
    "//r/{code}",
    "//r/check",
    "/r//check",
    "//s",
    "//learn",
    "//r",
    "/./r/check",
    "/r/./check",
    "/r/check/",
    "/%72/check",
    "/%2Fr/check",
    "/%2f%72/{code}",
    "//static/css/qamqor.css",
    "//lang/ru?next=//r/exit",
]


def test_no_spelling_of_an_anonymous_address_is_logged(app):
    from bench.common import Browser, Gunicorn
    from tests import factories

    code = factories.school().code
    with Gunicorn(
        app.config["SQLALCHEMY_DATABASE_URI"], Path(app.instance_path), workers=1
    ) as server:
        served = {}
        for variant in VARIANTS:
            path = variant.format(code=code)
            reply = Browser(server.base).request("GET", path, headers={"User-Agent": AGENT})
            served[path] = reply.status
            if reply.status == 200 and "/static/" not in path:
                # A student page served under another spelling is still marked anonymous.
                assert reply.headers["Referrer-Policy"] == "no-referrer", path
                assert reply.headers["Cache-Control"] == "no-store", path
        Browser(server.base).request("GET", "/healthz?after", headers={"User-Agent": AGENT})
        time.sleep(0.5)
    output = server.log.read_text()
    # The spellings that reach a page do reach it: the test is not vacuous.
    assert served[f"//r/{code}"] == served["//r/check"] == served["//s"] == 200, served
    assert served["/%72/check"] == served["/%2Fr/check"] == 200, served
    assert "GET /healthz?after" in output  # the access log is on
    assert output.count(AGENT) == 1, [line for line in output.splitlines() if AGENT in line]


AGENT = "QuietVariant/2.0"
