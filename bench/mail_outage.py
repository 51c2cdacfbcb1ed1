"""Reports while the mail server hangs (issue 14, finding 5): it accepts connections and never
answers, the worst case for a request that would wait on SMTP.

The hanging server is a listening socket on the loopback interface that nobody accepts from:
the kernel completes each connection and keeps it in the backlog, and no greeting ever comes.
gunicorn (the production settings, ``--workers`` sync workers) is told to send mail there
(``QAMQOR_MAIL_SERVER``). ``--reports`` students (fetch the form, send it, read the receipt)
submit through ``--concurrency`` concurrent connections; each student's time (form and send) is
measured; the same run without a mail server (notices written to the log) gives the floor.
Afterwards the outbox is read: every report's notice must be there (sent or waiting
for a later try), none lost.

Run: ``.venv/bin/python bench/mail_outage.py`` (SQLite; ``--dialects sqlite,postgresql`` for
both). Prints a table and appends it to ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402 - after the path is set
    Gunicorn,
    append_results,
    heading,
    scratch,
    table,
    throwaway_database,
)
from bench.load_reports import prepare, submit  # noqa: E402


def hanging_server() -> socket.socket:
    """A port that accepts connections (into the backlog) and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1024)
    return server


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def bench_one(dialect: str, hang: bool, args) -> list:
    with (
        scratch(f"qamqor-mail-{dialect}-") as folder,
        throwaway_database(dialect, folder) as url,
    ):
        app, code = prepare(url, folder / "instance")
        hanging = hanging_server()
        settings = {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": hanging.getsockname()[1]}
        if not hang:
            settings = {}  # no mail server: notices are written to the log (the floor)
        with Gunicorn(url, folder / "instance", workers=args.workers, **settings) as server:
            mode = "hanging" if hang else "none (log)"
            print(f"{dialect}: {args.reports} reports, mail server {mode}", flush=True)
            times: list[float] = []
            lock = threading.Lock()

            def one(index: int):
                started = time.monotonic()
                outcome = submit(server.base, code, index)
                with lock:
                    times.append(time.monotonic() - started)
                return outcome

            started = time.monotonic()
            with ThreadPoolExecutor(args.concurrency) as pool:
                outcomes = list(pool.map(one, range(args.reports)))
            seconds = time.monotonic() - started
        hanging.close()
        with app.app_context():
            from sqlalchemy import func, select

            from core.mail import OutgoingMail
            from extensions import db
            from incidents.intake.models import Report

            stored = db.session.scalar(select(func.count(Report.id)))
            notices = db.session.scalar(select(func.count(OutgoingMail.id)))
            db.session.remove()
            db.engine.dispose()
    shown = sum(1 for outcome in outcomes if outcome.code)
    row = [
        dialect,
        mode,
        args.reports,
        shown,
        stored,
        notices,
        f"{shown / seconds:.2f}",
        f"{percentile(times, 0.5):.2f}",
        f"{percentile(times, 0.99):.2f}",
    ]
    print("  " + " | ".join(str(cell) for cell in row), flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dialects", default="sqlite")
    parser.add_argument("--reports", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--no-save", action="store_true", help="print only")
    args = parser.parse_args()
    rows = [
        bench_one(dialect, hang, args)
        for dialect in args.dialects.split(",")
        for hang in (False, True)
    ]
    text = (
        heading("Reports while the mail server hangs")
        + f"\ngunicorn, {args.workers} sync workers (gunicorn.conf.py), {args.concurrency}"
        " concurrent students; the mail server accepts connections and never answers. A"
        " student's time is the form and the send; first without a mail server (notices written to"
        " the log: the floor), then with the hanging one. Notices: rows in the outbox afterwards (sent"
        " or waiting for a later try).\n\n"
        + table(
            [
                "database",
                "mail server",
                "reports",
                "receipts shown",
                "stored",
                "notices",
                "reports/s",
                "p50 s",
                "p99 s",
            ],
            rows,
            "llrrrrrrr",
        )
        + "\n"
    )
    print(text)
    if not args.no_save:
        append_results(text)


if __name__ == "__main__":
    main()
