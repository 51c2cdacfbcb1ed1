"""Nothing lost (issue 7), reduced: 30 students submit at once to gunicorn with 3 workers, one
worker is killed mid-run, and every receipt shown opens its own report through the student
pages. The full run (200 reports, SQLite and PostgreSQL) is ``bench/load_reports.py``.

Run alone: ``.venv/bin/pytest -m load``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.common import Gunicorn
from bench.load_reports import load, verify
from tests import factories

pytestmark = pytest.mark.load

REPORTS = 30
CONCURRENCY = 8


def test_every_receipt_shown_while_a_worker_is_killed_opens_its_own_stored_report(app):
    school = factories.school()
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    with Gunicorn(url, Path(app.instance_path), workers=3) as server:
        run = load(server, school.code, REPORTS, CONCURRENCY, kill_at=0.3)
        check = verify(app, server, run, school.code, CONCURRENCY)

    assert len(run.killed) == 1
    assert len(run.outcomes) == REPORTS
    # Only what the killed worker had in hand can fail: one request at a time per sync worker.
    assert check.failed <= len(run.killed), [o.error for o in run.failed]
    assert check.not_opened == [] and check.opened == check.shown
    assert check.shown_not_stored == 0
    assert check.unknown_stored == 0
    # Stored = receipts shown + at most one report whose answer died with its worker.
    assert check.stored_not_delivered <= len(run.killed)
    assert check.stored == check.shown + check.stored_not_delivered
    assert check.holds
