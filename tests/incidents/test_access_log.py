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
