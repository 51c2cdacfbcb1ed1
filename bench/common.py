"""What the bench scripts share: the machine and commit line, the results file, throwaway
databases, the demo data, a gunicorn server started and stopped around a run, and a small HTTP
client (standard library only) that keeps cookies and reads a form's hidden fields.

Everything stays on the loopback interface; every server, database and folder made here is
removed when the ``with`` block ends.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402 - first, so that the packages import in their order

RESULTS = ROOT / "bench" / "RESULTS.md"
PG_SERVER = os.environ.get(
    "QAMQOR_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
DEMO_PASSWORD = "qamqor-demo-2026"  # noqa: S105 - the demo accounts' published password
COUNSELOR = "psychologist@demo.qamqor.kz"


# --- the results file ---------------------------------------------------------------------------


def machine() -> str:
    cpu = platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    load = ""
    with contextlib.suppress(OSError):
        load = f", load {os.getloadavg()[0]:.1f} at start"
    return f"{platform.node()}, {cpu}, {os.cpu_count()} cores{load}, Python {platform.python_version()}"


def commit() -> str:
    """The short commit, and a note when tracked files differ from it (shared working trees)."""
    try:
        head = subprocess.check_output(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True)
        dirty = subprocess.check_output(["git", "status", "--porcelain", "-uno"], cwd=ROOT)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head.strip() + (" (with uncommitted changes)" if dirty.strip() else "")


def heading(title: str) -> str:
    return (
        f"\n## {title} — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n\n"
        f"Machine: {machine()}; commit {commit()}.\n"
    )


def table(header: list[str], rows: list[list], align: str | None = None) -> str:
    """A Markdown table; ``align`` is one letter per column: l (text) or r (numbers)."""
    align = align or "l" + "r" * (len(header) - 1)
    lines = ["| " + " | ".join(header) + " |"]
    lines.append("| " + " | ".join("---:" if a == "r" else "---" for a in align) + " |")
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def append_results(text: str) -> None:
    with RESULTS.open("a", encoding="utf-8") as handle:
        handle.write(text.rstrip("\n") + "\n")


# --- databases and the app ----------------------------------------------------------------------


@contextlib.contextmanager
def throwaway_database(dialect: str, folder: Path) -> Iterator[str]:
    """A new empty database (a file in ``folder``, or a PostgreSQL database), dropped after."""
    if dialect == "sqlite":
        yield f"sqlite:///{folder / 'bench.sqlite3'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"qamqor_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def app_config(url: str, instance: Path, **extra) -> dict:
    """The settings every bench uses: no rate limits, no second factor for the demo accounts."""
    return {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "bench",
        "PUBLIC_URL": "http://localhost",  # the test client's host
        "INSTANCE_PATH": str(instance),
        "RATELIMIT_ENABLED": False,
        "TWO_FACTOR_ROLES": "",
        **extra,
    }


def make_app(url: str, instance: Path, **extra):
    return create_app(app_config(url, instance, **extra))


def seed_demo(app, extra_reports: int = 0) -> dict:
    """The schema, the demo school with every package's demo data (as ``flask seed-demo`` makes
    it, without the migrations), and optionally ``extra_reports`` synthetic reports of the demo
    school (with cases and referrals) so that its lists are not toy-sized."""
    import random

    from sqlalchemy import select

    from extensions import db
    from school.cli import DEMO_SCHOOL_CODE, seed_directory
    from school.models import School

    with app.app_context():
        db.create_all()
        with contextlib.redirect_stdout(open(os.devnull, "w")):  # noqa: SIM115 - closed at exit
            seed_directory()
            for seeder in app.extensions.get("qamqor_demo_seeders", []):
                seeder()
        school = db.session.scalar(select(School).where(School.code == DEMO_SCHOOL_CODE))
        if extra_reports:
            from core.model_types import utcnow
            from insights import synthetic

            rng = random.Random(9)  # noqa: S311 - made-up data
            # Most reports of a working school have become cases; a few wait in the inbox.
            synthetic.make_reports(
                extra_reports, [(school.id, school.region_id, 1.0)], rng, utcnow(), case_share=0.95
            )
            db.session.commit()
        info = {"school_code": school.code, "school_id": school.id}
        db.session.remove()
        db.engine.dispose()
    return info


# --- a gunicorn server --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _no_control_socket() -> list[str]:
    """gunicorn 27 opens a control socket at one path in the home folder: several bench and
    test servers at once would take it from each other."""
    import gunicorn

    return ["--no-control-socket"] if gunicorn.version_info >= (27, 0) else []


class Gunicorn:
    """``gunicorn -c gunicorn.conf.py`` (the production settings) on a free loopback port.

    The app reads its settings from ``QAMQOR_*`` variables, as in a deployment.
    """

    def __init__(
        self, url: str, instance: Path, workers: int = 2, wsgi_app: str = "", **settings
    ) -> None:
        self.wsgi_app = wsgi_app  # another app than gunicorn.conf.py's (the bare floor)
        self.port = free_port()
        self.base = f"127.0.0.1:{self.port}"
        self.workers = workers
        self.log = instance.parent / f"gunicorn-{self.port}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("QAMQOR_")}
        env.update(
            QAMQOR_DATABASE_URL=url,
            QAMQOR_INSTANCE_PATH=str(instance),
            QAMQOR_SECRET_KEY="bench",  # noqa: S106 - a throwaway server on loopback
            QAMQOR_PUBLIC_URL=f"http://{self.base}",
            QAMQOR_RATELIMIT_ENABLED="false",
            QAMQOR_TWO_FACTOR_ROLES="",
            GUNICORN_BIND=self.base,
            GUNICORN_WORKERS=str(workers),
        )
        env.update({f"QAMQOR_{key}": str(value) for key, value in settings.items()})
        self.env = env
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Gunicorn:
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "-c",
                    "gunicorn.conf.py",
                    *_no_control_socket(),
                    *([self.wsgi_app] if self.wsgi_app else []),
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn stopped:\n{self.log.read_text()[-3000:]}")
            with contextlib.suppress(OSError):
                if (
                    Browser(self.base).get("/healthz").status == 200
                    and len(self.worker_pids()) == self.workers
                ):
                    return self
            time.sleep(0.2)
        self.__exit__(None, None, None)
        raise RuntimeError("gunicorn did not answer within 60 s")

    def worker_pids(self) -> list[int]:
        """The workers: the processes whose parent is the master (read from /proc)."""
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                # The name may hold spaces and parentheses: the fields after the last ")".
                parent = int(stat.rsplit(")", 1)[1].split()[1])
                if parent == self.process.pid:
                    pids.append(int(entry.name))
        return sorted(pids)

    def errors(self, last: int = 5) -> list[str]:
        """The last exception lines of the server's log (to explain answers other than 200)."""
        lines = self.log.read_text(errors="replace").splitlines()
        return [line for line in lines if "Error" in line or "Exception" in line][-last:]

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


# --- a small HTTP client ------------------------------------------------------------------------


class Response:
    def __init__(self, status: int, headers: http.client.HTTPMessage, body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class _Inputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hidden: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "input" and attributes.get("type") == "hidden" and attributes.get("name"):
            self.hidden[attributes["name"]] = attributes.get("value") or ""


def hidden_fields(html: str) -> dict[str, str]:
    """The hidden inputs of a page (CSRF token, submission token)."""
    parser = _Inputs()
    parser.feed(html)
    return parser.hidden


class Browser:
    """One client with its cookies; a new connection per request, redirects not followed."""

    def __init__(self, base: str, timeout: float = 60) -> None:
        self.host, port = base.split(":")
        self.port = int(port)
        self.timeout = timeout
        self.cookies: dict[str, str] = {}

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def request(self, method: str, path: str, body: bytes | None = None, headers=None):
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            sent = {"Accept-Language": "kk", **(headers or {})}
            if self.cookies:
                sent["Cookie"] = self.cookie_header()
            connection.request(method, path, body=body, headers=sent)
            reply = connection.getresponse()
            data = reply.read()
        finally:
            connection.close()
        for value in reply.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            cookie_value = rest.split(";", 1)[0]
            if cookie_value:
                self.cookies[name.strip()] = cookie_value
            else:
                self.cookies.pop(name.strip(), None)
        return Response(reply.status, reply.headers, data)

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, fields: dict | list) -> Response:
        body = urlencode(fields, doseq=True).encode()
        return self.request(
            "POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"}
        )

    def login(self, email: str, password: str = DEMO_PASSWORD) -> None:
        token = hidden_fields(self.get("/login").text).get("csrf_token", "")
        reply = self.post("/login", {"csrf_token": token, "email": email, "password": password})
        if reply.status != 302 or "/login" in (reply.headers.get("Location") or ""):
            raise RuntimeError(f"log-in as {email} failed: HTTP {reply.status}")


RECEIPT = re.compile(r'class="secret-code"><code>([0-9 ]{19})</code>')


def receipt_code(html: str) -> str | None:
    """The receipt code shown on a receipt page, digits only, or None."""
    found = RECEIPT.search(html)
    return found.group(1).replace(" ", "") if found else None


@contextlib.contextmanager
def scratch(prefix: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix=prefix) as folder:
        yield Path(folder)
