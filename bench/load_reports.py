"""Nothing lost (issue 7): many students submit at once while a gunicorn worker is killed.

``--reports`` students (each a client of its own: fetch the form, then send it with its CSRF
token, its submission token and a unique sentence) submit through ``--concurrency`` concurrent
connections to gunicorn with ``--workers`` sync workers and the production settings. When
``--kill-at`` of the submissions have been answered, one worker (not the master) gets SIGKILL
in the middle of its work; gunicorn starts another.

Then every receipt a client was shown is checked the way a student does: ``/r/check`` with the
code, then the conversation page, which must show that client's own sentence. And the database
is read: which submission tokens were stored.

What must hold (``verify``): every receipt shown opens its own report; no receipt was shown
for a report that is not stored; every stored report came from one of our clients. A client
whose connection broke (the killed worker's) saw no receipt; if the worker died after the
commit but before the answer left, that report is stored without its receipt having reached the
student ("stored, receipt not delivered"; at most one per killed worker): it is counted
apart, never as a receipt shown. So: stored = receipts shown + stored-not-delivered.

Run: ``.venv/bin/python bench/load_reports.py`` (SQLite in WAL mode and PostgreSQL; 200
reports each, about five minutes on 2 cores: each submission pays the Argon2id receipt hash).
Prints a table and appends it to ``bench/RESULTS.md``. ``tests/incidents/test_no_lost_report.py``
runs a reduced form.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402 - after the path is set
    Browser,
    Gunicorn,
    append_results,
    heading,
    hidden_fields,
    make_app,
    receipt_code,
    scratch,
    table,
    throwaway_database,
)

MARK = "Load test report"


@dataclass
class Outcome:
    token: str  # the form's submission token (stored with the report)
    sentence: str
    code: str | None = None  # the receipt shown, if any
    error: str = ""


@dataclass
class Run:
    outcomes: list[Outcome]
    killed: list[int] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def shown(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.code]

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.code]


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

    @property
    def holds(self) -> bool:
        return (
            not self.not_opened
            and self.shown_not_stored == 0
            and self.unknown_stored == 0
            and self.stored == self.shown + self.stored_not_delivered
        )


def submit(base: str, school_code: str, index: int) -> Outcome:
    """One student: fetch the form, send it, read the receipt."""
    browser = Browser(base, timeout=120)
    outcome = Outcome(token="", sentence=f"{MARK} {index} {secrets.token_hex(6)}")
    try:
        page = browser.get(f"/r/{school_code}")
        if page.status != 200:
            outcome.error = f"form: HTTP {page.status}"
            return outcome
        fields = hidden_fields(page.text)
        outcome.token = fields.get("token", "")
        reply = browser.post(
            f"/r/{school_code}",
            {
                **fields,
                "forms": ["bullying", "verbal"],
                "victim": "me",
                "perpetrator": "students",
                "place": "corridor",
                "frequency": "daily",
                "happened": "today",
                "description": outcome.sentence,
            },
        )
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
) -> Run:
    """Submit ``reports`` reports; SIGKILL a busy worker when ``kill_at`` of them are answered."""
    answered = [0]
    lock = threading.Lock()
    run = Run(outcomes=[])

    def one(index: int) -> Outcome:
        outcome = submit(server.base, school_code, index)
        with lock:
            answered[0] += 1
        return outcome

    def killer() -> None:
        for n in range(kills):
            threshold = int(reports * kill_at * (n + 1) / kills)
            while answered[0] < threshold and answered[0] < reports:
                time.sleep(0.01)
            workers = server.worker_pids()
            if answered[0] < reports and workers:
                victim = workers[n % len(workers)]
                os.kill(victim, signal.SIGKILL)
                run.killed.append(victim)

    started = time.monotonic()
    watcher = threading.Thread(target=killer, daemon=True)
    watcher.start()
    with ThreadPoolExecutor(concurrency) as pool:
        run.outcomes = list(pool.map(one, range(reports)))
    watcher.join(5)
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


def verify(app, server: Gunicorn, run: Run, school_code: str, concurrency: int) -> Check:
    """Open every receipt shown through the student pages; read what the school has stored
    (by submission token: the narrative is encrypted at rest, SQL cannot read it)."""
    from sqlalchemy import select

    from extensions import db
    from incidents.models import Report
    from school.models import School

    with ThreadPoolExecutor(concurrency) as pool:
        opened = list(pool.map(lambda o: opens_own_report(server.base, o), run.shown))
    with app.app_context():
        stored = set(
            db.session.scalars(
                select(Report.submission_token)
                .join(School, School.id == Report.school_id)
                .where(School.code == school_code)
            )
        )
        db.session.remove()
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
    )


def prepare(url: str, instance: Path):
    """The schema and the demo school (the directory only)."""
    from extensions import db
    from school.cli import DEMO_SCHOOL_CODE, seed_directory

    app = make_app(url, instance)
    with app.app_context():
        db.create_all()
        seed_directory()
        db.session.remove()
    return app, DEMO_SCHOOL_CODE


def bench_one(dialect: str, args) -> tuple[Run, Check]:
    with (
        scratch(f"qamqor-load-{dialect}-") as folder,
        throwaway_database(dialect, folder) as url,
    ):
        app, code = prepare(url, folder / "instance")
        with Gunicorn(url, folder / "instance", workers=args.workers) as server:
            print(f"{dialect}: {args.reports} reports, {args.workers} workers", flush=True)
            run = load(server, code, args.reports, args.concurrency, args.kill_at)
            check = verify(app, server, run, code, args.concurrency)
        with app.app_context():
            from extensions import db

            db.engine.dispose()
    print(f"  {check}", flush=True)
    return run, check


def render(results: dict[str, tuple[Run, Check]], args) -> str:
    rows = []
    for dialect, (run, check) in results.items():
        errors = sorted({o.error for o in run.failed})
        rows.append(
            [
                dialect,
                args.reports,
                len(run.killed),
                f"{run.seconds:.0f}",
                check.shown,
                check.opened,
                check.failed,
                check.stored,
                check.stored_not_delivered,
                check.shown_not_stored,
                "yes" if check.holds else "NO",
                "; ".join(errors) or "—",
            ]
        )
    text = heading("Nothing lost: concurrent reports with a worker killed")
    text += (
        f"\ngunicorn, {args.workers} sync workers, {args.concurrency} concurrent students; one"
        f" worker SIGKILLed when {args.kill_at:.0%} of the reports were answered. Every receipt"
        " shown is opened through /r/check and the conversation page, which must show that"
        " student's own sentence.\n\n"
    )
    text += table(
        [
            "database",
            "reports",
            "workers killed",
            "seconds",
            "receipts shown",
            "receipts that open their report",
            "errors (no receipt)",
            "stored",
            "stored, receipt not delivered",
            "receipts without a report",
            "holds",
            "errors seen",
        ],
        rows,
        "lrrrrrrrrrll",
    )
    return (
        text + "\n\nHolds = every receipt shown opens its own report, none without a report, and"
        " stored = shown + stored-not-delivered (a worker killed between the commit and the"
        " answer: the report is kept, the student saw an error, never a receipt).\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dialects", default="sqlite,postgresql")
    parser.add_argument("--reports", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--kill-at", type=float, default=0.3)
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args()
    results = {dialect: bench_one(dialect, args) for dialect in args.dialects.split(",")}
    text = render(results, args)
    print(text)
    if not args.no_save:
        append_results(text)
    if not all(check.holds for _run, check in results.values()):
        raise SystemExit("a receipt was lost or does not open its report")


if __name__ == "__main__":
    main()
