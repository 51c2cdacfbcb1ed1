"""Nothing lost (issues 7 and 14): many students submit at once while something fails.

``--reports`` students (each a client of its own: fetch the form, then send it with its CSRF
token, its submission token, a unique sentence and, one in ``--file-every``, a small JPEG of its
own colour) submit through ``--concurrency`` concurrent connections to gunicorn with
``--workers`` sync workers and the production settings, while one of the ``--faults`` happens:

- ``kill``: when ``--at`` of the submissions have been answered, one worker (not the master)
  gets SIGKILL in the middle of its work; gunicorn starts another.
- ``backup``: at ``--at``, ``flask backup create`` runs while the load goes on. Afterwards the
  backup is restored (``flask backup restore``) into a fresh database and instance folder and
  served by a new gunicorn: every receipt shown before the backup started opens its report there,
  with its text and its file; a report answered later may or may not be in the copy (SQLite's
  backup API and pg_dump each copy one consistent moment), but whatever the copy holds is whole:
  each of its reports is one the live database holds, its text and its files readable.
- ``rotate``: at ``--at``, ``flask crypto rotate`` runs while the load goes on. Afterwards
  ``flask crypto status`` succeeds, a fresh gunicorn starts on the same data, and every receipt is
  opened through it.
- ``redis``: the rate limits are on and their store is a Redis port where nothing listens (the
  limits fall back to the worker's memory; set high here, so that they refuse nobody).
- ``mail``: the counselors' notices go to a mail server that accepts connections and never
  answers (each worker waits for it once, after an answer, then leaves the outbox to the job).
  Every stored report has its notice in the outbox, unsent.

Then every receipt a client was shown is checked the way a student does: ``/r/check`` with the
code, then the conversation page, which must show that client's own sentence. And the database
is read: which submission tokens were stored, and each stored report's file (decrypted, of that
client's colour).

What must hold (``verify``): every receipt shown opens its own report; no receipt was shown
for a report that is not stored; every stored report came from one of our clients and has its
file. A client whose connection broke (the killed worker's) saw no receipt; if the worker died
after the commit but before the answer left, that report is stored without its receipt having
reached the student ("stored, receipt not delivered"; at most one per killed worker): it is
counted apart, never as a receipt shown. So: stored = receipts shown + stored-not-delivered.

Run: ``.venv/bin/python bench/load_reports.py [--faults kill,backup,rotate,redis,mail]``
(SQLite in WAL mode and PostgreSQL; 200 reports each, about a minute per fault and database on
2 cores: each submission pays the Argon2id receipt hash). Prints a table and appends it to
``bench/RESULTS.md``. ``tests/incidents/test_no_lost_report.py`` (kill) and
``tests/incidents/test_nothing_lost_under_load.py`` (the others) run a reduced form.
"""

from __future__ import annotations

import argparse
import io
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402 - after the path is set
    Browser,
    Gunicorn,
    append_results,
    free_port,
    heading,
    hidden_fields,
    make_app,
    receipt_code,
    scratch,
    table,
    throwaway_database,
)

MARK = "Load test report"
FAULTS = ("kill", "backup", "rotate", "redis", "mail")
FILE_EVERY = 3  # one student in three adds a photo
IMAGE_SIZE = (64, 48)
COLOUR_TOLERANCE = 24
RECHECKED = 8  # receipts opened again through a fresh server after a rotation  # JPEG re-encoding moves a flat colour by a few units


@dataclass
class Outcome:
    index: int
    token: str  # the form's submission token (stored with the report)
    sentence: str
    colour: tuple[int, int, int] | None = None  # the photo sent with the report, if any
    code: str | None = None  # the receipt shown, if any
    error: str = ""
    seconds: float = 0.0  # from sending the form to its answer
    answered: float = 0.0  # time.monotonic() of the answer


@dataclass
class Run:
    outcomes: list[Outcome]
    killed: list[int] = field(default_factory=list)
    seconds: float = 0.0
    fault_started: float | None = None  # time.monotonic() when the mid-run action began
    fault_seconds: float = 0.0
    fault_error: str = ""

    @property
    def shown(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.code]

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.code]

    def shown_before_fault(self) -> list[Outcome]:
        return [o for o in self.shown if o.answered < (self.fault_started or 0.0)]

    def percentile(self, share: float) -> float:
        """Seconds of the submissions' answers (nearest rank)."""
        times = sorted(o.seconds for o in self.outcomes if o.seconds)
        return times[min(len(times) - 1, int(share * len(times)))] if times else 0.0


@dataclass
class Check:
    stored: int
    shown: int
    failed: int
    opened: int  # receipts that opened their own report through the student pages
    not_opened: list[str]  # receipts that did not (must be empty)
    stored_not_delivered: int  # stored, but the client got an error instead of the receipt
    shown_not_stored: int  # must be 0
    unknown_stored: int  # stored tokens that no client sent (must be 0)
    files: int = 0  # stored reports' photos read back, decrypted, of their client's colour
    bad: list[str] = field(default_factory=list)  # texts or files that are not (must be empty)

    @property
    def holds(self) -> bool:
        return (
            not self.not_opened
            and not self.bad
            and self.shown_not_stored == 0
            and self.unknown_stored == 0
            and self.stored == self.shown + self.stored_not_delivered
        )


def colour_of(index: int) -> tuple[int, int, int]:
    return (40 + index * 37 % 180, 40 + index * 91 % 180, 40 + index * 53 % 180)


def jpeg(colour: tuple[int, int, int]) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", IMAGE_SIZE, colour).save(out, "JPEG")
    return out.getvalue()


def multipart(fields: dict, files: list[tuple[str, str, str, bytes]]) -> tuple[bytes, str]:
    """A form with files, as a browser sends it."""
    boundary = secrets.token_hex(16)
    parts = []
    for name, value in fields.items():
        for one in value if isinstance(value, list) else [value]:
            head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            parts.append(head.encode() + str(one).encode() + b"\r\n")
    for name, filename, content_type, data in files:
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}";'
            f' filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'
        )
        parts.append(head.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def submit(base: str, school_code: str, index: int, file_every: int = FILE_EVERY) -> Outcome:
    """One student: fetch the form, send it (with a photo, one in ``file_every``), read the
    receipt."""
    browser = Browser(base, timeout=120)
    outcome = Outcome(index=index, token="", sentence=f"{MARK} {index} {secrets.token_hex(6)}")
    if file_every and index % file_every == 0:
        outcome.colour = colour_of(index)
    try:
        page = browser.get(f"/r/{school_code}")
        if page.status != 200:
            outcome.error = f"form: HTTP {page.status}"
            return outcome
        fields = hidden_fields(page.text)
        outcome.token = fields.get("token", "")
        form = {
            **fields,
            "forms": ["bullying", "verbal"],
            "victim": "me",
            "perpetrator": "students",
            "place": "corridor",
            "frequency": "daily",
            "happened": "today",
            "description": outcome.sentence,
        }
        photo = (
            [("files", "photo.jpg", "image/jpeg", jpeg(outcome.colour))] if outcome.colour else []
        )
        body, content_type = multipart(form, photo)
        sent = time.monotonic()
        try:
            reply = browser.request(
                "POST", f"/r/{school_code}", body, {"Content-Type": content_type}
            )
        finally:
            outcome.answered = time.monotonic()
            outcome.seconds = outcome.answered - sent
        outcome.code = receipt_code(reply.text) if reply.status == 200 else None
        if outcome.code is None:
            outcome.error = f"send: HTTP {reply.status}"
    except OSError as error:  # reset, refused, closed without an answer
        outcome.error = f"send: {type(error).__name__}"
    return outcome


def load(
    server: Gunicorn,
    school_code: str,
    reports: int,
    concurrency: int,
    kill_at: float,
    kills: int = 1,
    action: Callable[[], None] | None = None,
    file_every: int = FILE_EVERY,
) -> Run:
    """Submit ``reports`` reports; when ``kill_at`` of them are answered, run ``action`` while
    the load goes on (without one: SIGKILL a busy worker, ``kills`` times spread over the run)."""
    answered = [0]
    lock = threading.Lock()
    run = Run(outcomes=[])

    def one(index: int) -> Outcome:
        outcome = submit(server.base, school_code, index, file_every)
        with lock:
            answered[0] += 1
        return outcome

    def wait_for(threshold: int) -> None:
        while answered[0] < threshold and answered[0] < reports:
            time.sleep(0.01)

    def killer() -> None:
        for n in range(kills):
            wait_for(int(reports * kill_at * (n + 1) / kills))
            workers = server.worker_pids()
            if answered[0] < reports and workers:
                victim = workers[n % len(workers)]
                os.kill(victim, signal.SIGKILL)
                run.killed.append(victim)

    def acting() -> None:
        wait_for(int(reports * kill_at))
        run.fault_started = time.monotonic()
        try:
            action()
        except Exception as error:  # noqa: BLE001 - reported with the run, checked by the caller
            run.fault_error = f"{type(error).__name__}: {error}"
        run.fault_seconds = time.monotonic() - run.fault_started

    started = time.monotonic()
    watcher = threading.Thread(target=killer if action is None else acting, daemon=True)
    watcher.start()
    with ThreadPoolExecutor(concurrency) as pool:
        run.outcomes = list(pool.map(one, range(reports)))
    watcher.join(600)
    run.seconds = time.monotonic() - started
    return run


def opens_own_report(base: str, outcome: Outcome) -> bool:
    """The student comes back: the code opens the conversation, which shows their sentence."""
    browser = Browser(base, timeout=120)
    form = browser.get("/r/check")
    fields = {**hidden_fields(form.text), "code": outcome.code}
    reply = browser.post("/r/check", fields)
    if reply.status != 303 or not (reply.headers.get("Location") or "").endswith("/r/conversation"):
        return False
    conversation = browser.get("/r/conversation")
    return conversation.status == 200 and outcome.sentence in conversation.text


def stored_reports(app, school_code: str, outcomes: list[Outcome]) -> tuple[set[str], int, list]:
    """The submission tokens the school's database holds, and each report read back: its text
    (decrypted) must be its client's sentence, its photo (decrypted, decoded) of its client's
    colour. Returns (tokens, photos read back, what is not as sent)."""
    from PIL import Image
    from sqlalchemy import select

    from extensions import db
    from incidents.intake import uploads
    from incidents.intake.models import Report
    from school.models import School

    sent = {o.token: o for o in outcomes if o.token}
    tokens, files, bad = set(), 0, []
    with app.app_context():
        reports = db.session.scalars(
            select(Report)
            .join(School, School.id == Report.school_id)
            .where(School.code == school_code)
        )
        for report in reports:
            tokens.add(report.submission_token)
            outcome = sent.get(report.submission_token)
            if outcome is None:
                continue  # counted as unknown by the caller
            try:
                if report.description != outcome.sentence:
                    bad.append(f"text of report {report.id}")
                photos = [uploads.load_bytes(a.storage_key) for a in report.attachments]
            except Exception as error:  # noqa: BLE001 - an unreadable value is what we look for
                bad.append(f"report {report.id}: {type(error).__name__}")
                continue
            if len(photos) != (1 if outcome.colour else 0):
                bad.append(f"report {report.id}: {len(photos)} files")
                continue
            for data in photos:
                image = Image.open(io.BytesIO(data)).convert("RGB")
                centre = image.getpixel((image.width // 2, image.height // 2))
                if (
                    max(abs(a - b) for a, b in zip(centre, outcome.colour, strict=True))
                    > COLOUR_TOLERANCE
                ):
                    bad.append(f"photo of report {report.id}: {centre} for {outcome.colour}")
                else:
                    files += 1
        db.session.remove()
    return tokens, files, bad


def forget(app) -> None:
    """Close the connections of an app made here."""
    from extensions import db

    with app.app_context():
        db.engine.dispose()


def verify(app, server: Gunicorn, run: Run, school_code: str, concurrency: int) -> Check:
    """Open every receipt shown through the student pages; read what the school has stored
    (by submission token: the narrative is encrypted at rest, SQL cannot read it), each
    report's text and photo decrypted."""
    with ThreadPoolExecutor(concurrency) as pool:
        opened = list(pool.map(lambda o: opens_own_report(server.base, o), run.shown))
    stored, files, bad = stored_reports(app, school_code, run.outcomes)
    shown = {o.token for o in run.shown}
    failed = {o.token for o in run.failed if o.token}
    return Check(
        stored=len(stored),
        shown=len(shown),
        failed=len(run.failed),
        opened=sum(opened),
        not_opened=[o.code for o, ok in zip(run.shown, opened, strict=True) if not ok],
        stored_not_delivered=len(stored & failed),
        shown_not_stored=len(shown - stored),
        unknown_stored=len(stored - shown - failed),
        files=files,
        bad=bad,
    )


# --- the faults ---------------------------------------------------------------------------------


def flask(env: dict, *args: str) -> subprocess.CompletedProcess:
    """``flask --app app ...`` with a server's settings (its database and instance folder)."""
    return subprocess.run(  # noqa: S603 - our own interpreter and command
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def command(env: dict, *args: str) -> str:
    """Run a flask command; its output, or an error naming it when it failed."""
    done = flask(env, *args)
    if done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)}: exit {done.returncode}: {done.stderr[-800:]}")
    return done.stdout


@contextmanager
def fresh_database(url: str, folder: Path) -> Iterator[str]:
    """An empty database beside ``url``'s (a file in ``folder``, or one more database on the
    same PostgreSQL server), dropped after."""
    if url.startswith("sqlite"):
        yield f"sqlite:///{folder / 'restored.sqlite3'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"qamqor_restored_{secrets.token_hex(5)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def conditions(fault: str) -> Iterator[dict]:
    """The gunicorn settings for the whole run: Redis or the mail server away, or nothing."""
    if fault == "redis":
        yield {
            "RATELIMIT_ENABLED": "true",
            "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{free_port()}/0",
            # On, counted in each worker's memory, and high: one address sends everything here.
            "REPORT_RATE_LIMIT": "100000 per hour",
            "RECEIPT_RATE_LIMIT": "100000 per hour",
        }
    elif fault == "mail":
        from tests.smtp_servers import HangingServer

        hanging = HangingServer()
        try:
            yield {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(hanging.port)}
        finally:
            hanging.close()
    else:
        yield {}


@dataclass
class Result:
    fault: str
    run: Run
    check: Check
    facts: dict = field(default_factory=dict)  # what the fault's own checks found
    problems: list[str] = field(default_factory=list)  # must be empty

    @property
    def holds(self) -> bool:
        return self.check.holds and not self.problems and not self.run.fault_error


def run_fault(
    app,
    school_code: str,
    fault: str,
    reports: int,
    concurrency: int,
    workers: int,
    at: float = 0.3,
    folder: Path | None = None,
) -> Result:
    """Load the app's database through gunicorn while ``fault`` happens, then check that
    nothing was lost (``verify``) and what the fault itself must leave true."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    instance = Path(app.instance_path)
    folder = folder or instance.parent
    backup = folder / f"backup-{secrets.token_hex(4)}"
    with conditions(fault) as settings, Gunicorn(url, instance, workers, **settings) as server:
        action = {
            "kill": None,
            "backup": lambda: command(server.env, "backup", "create", str(backup)),
            "rotate": lambda: command(server.env, "crypto", "rotate", "--grace", "0.5"),
        }.get(fault, lambda: None)
        kills = 1 if fault == "kill" else 0
        run = load(server, school_code, reports, concurrency, at, kills, action)
        check = verify(app, server, run, school_code, concurrency)
        log = server.log.read_text(errors="replace")
    result = Result(fault, run, check)
    if fault != "kill" and run.failed:
        result.problems.append(f"{len(run.failed)} students saw no receipt")
    if "Traceback" in log and fault != "kill":
        result.problems.append("a traceback in the server's log")
    if fault == "backup":
        restored(app, school_code, run, backup, folder, concurrency, result)
    elif fault == "rotate":
        rotated(app, school_code, run, concurrency, result)
    elif fault == "redis":
        result.facts["fell back to memory"] = log.count("falling back to in-memory storage")
    elif fault == "mail":
        mailed(app, check, result)
    return result


def restored(app, school_code, run, backup: Path, folder: Path, concurrency, result) -> None:
    """The backup taken mid-run, restored into a fresh database and instance folder, served by a
    new gunicorn: every receipt shown before it began opens its report with its text and photo;
    whatever else the copy holds is whole and is in the live database."""
    before = run.shown_before_fault()
    live = {o.token for o in run.outcomes if o.token}
    instance = folder / f"restored-{secrets.token_hex(4)}"
    with fresh_database(app.config["SQLALCHEMY_DATABASE_URI"], folder) as url:
        server = Gunicorn(url, instance, workers=2)
        command(server.env, "backup", "restore", "--yes", str(backup))
        with server, ThreadPoolExecutor(concurrency) as pool:
            opened = list(pool.map(lambda o: opens_own_report(server.base, o), before))
        copy = make_app(url, instance)
        tokens, files, bad = stored_reports(copy, school_code, run.outcomes)
        forget(copy)
    result.facts.update(
        {
            "backup seconds": f"{run.fault_seconds:.1f}",
            "shown before the backup": len(before),
            "of them open in the copy": sum(opened),
            "reports in the copy": len(tokens),
            "photos in the copy": files,
        }
    )
    if sum(opened) != len(before):
        result.problems.append(
            f"{len(before) - sum(opened)} receipts shown before the backup do not open"
        )
    if tokens - live:
        result.problems.append(f"{len(tokens - live)} reports in the copy that no client sent")
    if {o.token for o in before} - tokens:
        result.problems.append("reports shown before the backup missing from the copy")
    result.problems += [f"copy: {what}" for what in bad]


def rotated(app, school_code, run, concurrency, result) -> None:
    """After the rotation: ``crypto status`` succeeds, a fresh app starts on the same data and
    reads every stored report's text and photo, and a fresh gunicorn opens the receipts shown
    since the rotation began (``verify`` opened all of them on the running one)."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    instance = Path(app.instance_path)
    server = Gunicorn(url, instance, workers=1)
    result.facts["rotation seconds"] = f"{run.fault_seconds:.1f}"
    status = flask(server.env, "crypto", "status")
    result.facts["crypto status"] = status.returncode
    if status.returncode != 0:
        result.problems.append(f"crypto status: exit {status.returncode}: {status.stderr[-400:]}")
    since = [o for o in run.shown if o.answered >= (run.fault_started or 0.0)][-RECHECKED:]
    try:
        fresh = make_app(url, instance)
        with server, ThreadPoolExecutor(concurrency) as pool:
            opened = list(pool.map(lambda o: opens_own_report(server.base, o), since))
    except Exception as error:  # noqa: BLE001 - the app refusing to start is what we look for
        result.problems.append(f"a fresh start failed: {type(error).__name__}: {error}")
        return
    tokens, _files, bad = stored_reports(fresh, school_code, run.outcomes)
    forget(fresh)
    result.facts["read by a fresh app"] = len(tokens) - len(bad)
    result.facts["open through a fresh gunicorn"] = f"{sum(opened)} of {len(since)}"
    if sum(opened) != len(since):
        result.problems.append(
            f"after a fresh start, {len(since) - sum(opened)} receipts do not open"
        )
    result.problems += [f"after a fresh start: {what}" for what in bad]


def mailed(app, check: Check, result) -> None:
    """Every stored report's notice is in the outbox, unsent (the mail server never answered)."""
    from sqlalchemy import func, select

    from core.mail import OutgoingMail
    from extensions import db

    with app.app_context():
        queued = db.session.scalar(select(func.count()).select_from(OutgoingMail))
        sent = db.session.scalar(
            select(func.count()).select_from(OutgoingMail).where(OutgoingMail.sent_at.is_not(None))
        )
        db.session.remove()
    result.facts.update({"notices queued": queued, "notices sent": sent})
    if queued < check.stored:
        result.problems.append(f"{check.stored} reports stored, {queued} notices queued")
    if sent:
        result.problems.append(f"{sent} notices sent to a server that never answers")


# --- the bench ----------------------------------------------------------------------------------


def prepare(url: str, instance: Path):
    """The schema and the demo school (the directory, with its counselor)."""
    from extensions import db
    from school.cli import DEMO_SCHOOL_CODE, seed_directory

    app = make_app(url, instance)
    with app.app_context():
        db.create_all()
        seed_directory()
        db.session.remove()
    return app, DEMO_SCHOOL_CODE


def bench_one(dialect: str, fault: str, args) -> Result:
    with (
        scratch(f"qamqor-load-{dialect}-") as folder,
        throwaway_database(dialect, folder) as url,
    ):
        app, code = prepare(url, folder / "instance")
        print(f"{dialect}, {fault}: {args.reports} reports, {args.workers} workers", flush=True)
        result = run_fault(
            app, code, fault, args.reports, args.concurrency, args.workers, args.at, folder
        )
        with app.app_context():
            from extensions import db

            db.engine.dispose()
    print(
        f"  {result.check}\n  {result.facts} {result.problems} {result.run.fault_error}", flush=True
    )
    return result


WHAT = {
    "kill": "a worker SIGKILLed",
    "backup": "`flask backup create`, then restored into a fresh database",
    "rotate": "`flask crypto rotate`",
    "redis": "rate limits on, Redis port where nothing listens (all run)",
    "mail": "mail server accepts, never answers (all run)",
}


def render(results: list[tuple[str, Result]], args) -> str:
    rows = []
    for dialect, result in results:
        run, check = result.run, result.check
        errors = sorted({o.error for o in run.failed})
        facts = "; ".join(f"{k}: {v}" for k, v in result.facts.items())
        rows.append(
            [
                dialect,
                WHAT[result.fault],
                args.reports,
                f"{run.seconds:.0f}",
                check.shown,
                check.opened,
                check.failed,
                check.stored,
                check.stored_not_delivered,
                check.shown_not_stored,
                check.files,
                f"{run.percentile(0.5):.1f}",
                f"{run.percentile(0.99):.1f}",
                "yes" if result.holds else "NO",
                "; ".join(errors) or "—",
                "; ".join(filter(None, [facts, *result.problems, run.fault_error])) or "—",
            ]
        )
    text = heading("Nothing lost: concurrent reports while something fails")
    text += (
        f"\ngunicorn, {args.workers} sync workers, {args.concurrency} concurrent students, one in"
        f" {FILE_EVERY} with a photo; the mid-run faults start when {args.at:.0%} of the reports"
        " were answered. Every receipt shown is opened through /r/check and the conversation"
        " page, which must show that student's own sentence; every stored report's text and photo"
        " are read back decrypted. Seconds of p50/p99: sending the form to its answer.\n\n"
    )
    text += table(
        [
            "database",
            "fault",
            "reports",
            "seconds",
            "receipts shown",
            "receipts that open their report",
            "errors (no receipt)",
            "stored",
            "stored, receipt not delivered",
            "receipts without a report",
            "photos read back",
            "p50 s",
            "p99 s",
            "holds",
            "errors seen",
            "the fault's own checks",
        ],
        rows,
        "llrrrrrrrrrrrlll",
    )
    return (
        text + "\n\nHolds = every receipt shown opens its own report, none without a report,"
        " stored = shown + stored-not-delivered (a worker killed between the commit and the"
        " answer: the report is kept, the student saw an error, never a receipt), every stored"
        " text and photo reads back as sent, and the fault's own checks found nothing.\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dialects", default="sqlite,postgresql")
    parser.add_argument("--faults", default="kill", help=f"comma-separated: {','.join(FAULTS)}")
    parser.add_argument("--reports", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--at", "--kill-at", type=float, default=0.3)
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args()
    faults = args.faults.split(",")
    if unknown := set(faults) - set(FAULTS):
        parser.error(f"unknown faults: {', '.join(sorted(unknown))}")
    results = [
        (dialect, bench_one(dialect, fault, args))
        for fault in faults
        for dialect in args.dialects.split(",")
    ]
    text = render(results, args)
    print(text)
    if not args.no_save:
        append_results(text)
    if not all(result.holds for _dialect, result in results):
        raise SystemExit("a receipt was lost, does not open its report, or a fault's check failed")


if __name__ == "__main__":
    main()
