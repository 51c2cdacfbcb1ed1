"""Dashboard timings at scale: the national and a regional statistics page, PostgreSQL and SQLite.

Budget (issue 6): on PostgreSQL with 1,000,000 reports a national dashboard in under 300 ms, and
the time grows far slower than the data (compare 100,000 against 1,000,000).

For each database and size: synthetic data (``insights.synthetic``: schools, reports, forms,
cases, referrals, survey answers), ANALYZE, one warm-up, then ``--repeat`` timed requests of the
whole page (``GET /insights/``, SQL and HTML and SVG) as a national analyst and as the analyst of
Almaty; the median is reported, with the time spent in SQL. The slowest statement of the national
page is EXPLAINed. Prints a table and appends it to ``bench/RESULTS.md`` with the date, the
machine and the commit.

Run: ``.venv/bin/python bench/dashboards.py`` (100,000 on both databases, then 1,000,000 on
PostgreSQL; about 8 minutes on 2 cores). ``--levels``, ``--dialects`` choose; ``--reuse`` keeps
the generated databases between runs (new indexes of the models are added to them). ``--page
/insights/kpis`` times the programme evidence page (issue 17) instead of the dashboard.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_SERVER = os.environ.get(
    "QAMQOR_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PASSWORD = "bench password 2026"  # noqa: S105 - a throwaway account in a throwaway database
BUDGET_MS = 300


def database_url(dialect: str, level: int, reuse: bool) -> tuple[str, bool]:
    """The URL of the bench database for this size, and whether it already holds the data."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    if dialect == "sqlite":
        path = Path(f"/tmp/qamqor-bench-{level}.sqlite3")  # noqa: S108 - a scratch database
        exists = path.exists() and reuse
        if path.exists() and not reuse:
            path.unlink()
        return f"sqlite:///{path}", exists
    name = f"qamqor_bench_{level}"
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        found = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        ).scalar()
        if found and not reuse:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            found = None
        if not found:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False), bool(found)


def prepare(app, level: int, filled: bool) -> tuple[float, float]:
    """Schema, data, monthly totals and statistics; returns the seconds spent generating the
    data and rebuilding the monthly totals (the nightly job)."""
    from sqlalchemy import func, select, text

    from extensions import db
    from incidents.intake.models import Report
    from insights import rollup, synthetic
    from insights.models import SurveyTally
    from insights.surveys import recount
    from school import services
    from school.models import Region, Role, User

    with app.app_context():
        # The monthly totals are rebuilt below anyway: their tables are made afresh, in the
        # models' current shape.
        for table in (
            rollup.report_months,
            rollup.region_months,
            rollup.response_hours,
            rollup.case_months,
            rollup.case_region_months,
            rollup.referral_months,
            rollup.referral_region_months,
            rollup.refreshed_months,
        ):
            table.drop(db.engine, checkfirst=True)
        db.create_all()
        for table in db.metadata.sorted_tables:  # indexes added to the models since last time
            for index in table.indexes:
                index.create(db.engine, checkfirst=True)
        seconds = 0.0
        # A database left half-filled by an interrupted run is filled again from scratch.
        if filled and (db.session.scalar(select(func.count(Report.id))) or 0) < level:
            db.session.rollback()  # let go of the table before dropping it
            db.drop_all()
            db.create_all()
            filled = False
        if not filled:
            started = time.perf_counter()
            # A fixed country of 7,500 schools; 1% of them (75) answer the survey, about as many
            # as when the schools grew with the reports.
            synthetic.generate(level, survey_share=0.01, seed=6)
            seconds = time.perf_counter() - started
        if filled and not db.session.scalar(select(func.count()).select_from(SurveyTally)):
            recount()  # a database made before the survey totals existed
            db.session.commit()
        started = time.perf_counter()
        rollup.refresh()
        db.session.commit()
        refresh_seconds = time.perf_counter() - started
        for email, region in (("national@bench.invalid", None), ("almaty@bench.invalid", "KZ-75")):
            if db.session.scalar(select(User.id).where(User.email == email)) is None:
                services.create_user(
                    email=email,
                    full_name="Bench analyst",
                    role=Role.analyst,
                    password=PASSWORD,
                    school=None,
                    region=db.session.scalar(select(Region).where(Region.iso_code == region))
                    if region
                    else None,
                    body=None,
                    locale="en",
                )
        db.session.commit()
        # After a bulk load: statistics, and (PostgreSQL) the visibility map that lets index-only
        # scans skip the table; autovacuum does the same in production.
        statement = "VACUUM ANALYZE" if db.engine.dialect.name == "postgresql" else "ANALYZE"
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(statement))
    return seconds, refresh_seconds


class SqlClock:
    """Times every statement (for the SQL share and the slowest statement)."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.records: list[tuple[float, str, object]] = []
        self._start: dict[int, float] = {}
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        self._start[id(cursor)] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        started = self._start.pop(id(cursor), None)
        if started is not None:
            self.records.append((time.perf_counter() - started, statement, parameters))


def _check(response, status: int) -> None:
    if response.status_code != status:
        raise SystemExit(f"unexpected HTTP {response.status_code} (wanted {status})")


def measure(app, repeat: int, page: str = "/insights/") -> dict[str, dict]:
    from extensions import db

    results = {}
    with app.app_context():
        clock = SqlClock(db.engine)
    for scenario, email in (
        ("national", "national@bench.invalid"),
        ("regional", "almaty@bench.invalid"),
    ):
        client = app.test_client()
        client.get("/lang/en")
        response = client.post("/login", data={"email": email, "password": PASSWORD})
        _check(response, 302)
        _check(client.get(page), 200)  # warm-up
        pages, sql, slowest = [], [], None
        for _ in range(repeat):
            clock.records.clear()
            started = time.perf_counter()
            response = client.get(page)
            pages.append(time.perf_counter() - started)
            _check(response, 200)
            sql.append(sum(r[0] for r in clock.records))
            top = max(clock.records, key=lambda r: r[0])
            if slowest is None or top[0] > slowest[0]:
                slowest = top
        results[scenario] = {
            "page_ms": statistics.median(pages) * 1000,
            "sql_ms": statistics.median(sql) * 1000,
            "queries": len(clock.records),
            "slowest": slowest,
            "statements": [(seconds, statement) for seconds, statement, _p in clock.records],
        }
    return results


def explain(app, dialect: str, slowest) -> str:
    from extensions import db

    _seconds, statement, parameters = slowest
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if dialect == "postgresql" else "EXPLAIN QUERY PLAN "
    with app.app_context(), db.engine.connect() as connection:
        rows = connection.exec_driver_sql(prefix + statement, parameters).fetchall()
    return "\n".join(" | ".join(str(col) for col in row) for row in rows)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{platform.node()}, {cpu}, {os.cpu_count()} cores, Python {platform.python_version()},"
        f" load average {load} (the machine is shared: other work inflates the times)"
    )


def commit() -> str:
    try:
        head = subprocess.check_output(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True)
        dirty = subprocess.check_output(
            ["git", "status", "--porcelain", "--", "insights"], cwd=ROOT
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head.strip() + (" (insights modified)" if dirty.strip() else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default="100000,1000000")
    parser.add_argument("--dialects", default="postgresql,sqlite")
    parser.add_argument("--sqlite-max", type=int, default=100_000, help="largest SQLite level")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="keep and reuse the bench databases")
    parser.add_argument("--page", default="/insights/", help="the page to time")
    args = parser.parse_args()

    from app import create_app

    levels = [int(x) for x in args.levels.split(",")]
    rows, explains = [], {}
    for dialect in args.dialects.split(","):
        for level in levels:
            if dialect == "sqlite" and level > args.sqlite_max:
                continue
            url, filled = database_url(dialect, level, args.reuse)
            app = create_app(
                {
                    "SQLALCHEMY_DATABASE_URI": url,
                    "SECRET_KEY": "bench",
                    "PUBLIC_URL": "http://localhost",  # the test client's host
                    "RATELIMIT_ENABLED": False,
                    "TWO_FACTOR_ROLES": "",
                    "WTF_CSRF_ENABLED": False,
                    "INSTANCE_PATH": f"/tmp/qamqor-bench-instance-{dialect}",  # noqa: S108 - scratch
                }
            )
            generated, refreshed = prepare(app, level, filled)
            print(
                f"{dialect} {level:,}: data ready ({generated:.0f} s to generate,"
                f" {refreshed:.1f} s to rebuild the monthly totals)",
                flush=True,
            )
            timings = measure(app, args.repeat, args.page)
            for scenario, t in timings.items():
                rows.append((dialect, level, scenario, t, generated, refreshed))
                print(
                    f"  {scenario:<9} page {t['page_ms']:7.1f} ms  sql {t['sql_ms']:7.1f} ms"
                    f"  ({t['queries']} queries)",
                    flush=True,
                )
            explains[(dialect, level)] = (
                timings["national"]["slowest"],
                explain(app, dialect, timings["national"]["slowest"]),
            )
            with app.app_context():
                from extensions import db

                db.engine.dispose()
    report = render(rows, explains, levels, args.page)
    print(report)
    with (ROOT / "bench" / "RESULTS.md").open("a", encoding="utf-8") as handle:
        handle.write(report + "\n")


def render(rows, explains, levels, page: str = "/insights/") -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## {'Dashboards' if page == '/insights/' else page} at scale — {now}",
        "",
        f"Machine: {machine()}. Commit: {commit()}. Median of the timed requests; "
        f"page = the whole GET {page} (SQL, HTML, SVG), sql = time in statements.",
        "",
        "| database | reports | dashboard | page ms | sql ms | queries | generate s | totals s |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for dialect, level, scenario, t, generated, refreshed in rows:
        lines.append(
            f"| {dialect} | {level:,} | {scenario} | {t['page_ms']:.1f} | {t['sql_ms']:.1f} |"
            f" {t['queries']} | {generated:.0f} | {refreshed:.1f} |"
        )
    lines.append("")
    by_key = {(d, lvl, s): t for d, lvl, s, t, _g, _r in rows}
    if len(levels) >= 2:
        small, large = min(levels), max(levels)
        for dialect in sorted({d for d, *_ in rows}):
            for scenario in ("national", "regional"):
                a, b = (
                    by_key.get((dialect, small, scenario)),
                    by_key.get((dialect, large, scenario)),
                )
                if a and b:
                    lines.append(
                        f"- Growth {dialect} {scenario}: data ×{large / small:.0f}, page time"
                        f" ×{b['page_ms'] / a['page_ms']:.2f}, SQL time ×{b['sql_ms'] / a['sql_ms']:.2f}"
                    )
        largest = by_key.get(("postgresql", large, "national"))
        if largest:
            verdict = "within" if largest["page_ms"] < BUDGET_MS else "OVER"
            lines.append(
                f"- Budget: national dashboard on PostgreSQL at {large:,} reports:"
                f" {largest['page_ms']:.0f} ms — {verdict} the {BUDGET_MS} ms budget."
            )
        lines.append("")
    for dialect, level, scenario, t, _g, _r in rows:
        if scenario != "national" or level != max(levels):
            continue
        lines += [
            f"Where the national page's SQL time goes, {dialect} {level:,} (last timed request,"
            " slowest first):",
            "",
            "| ms | statement |",
            "| ---: | --- |",
        ]
        for seconds, statement in sorted(t["statements"], key=lambda r: -r[0]):
            lines.append(f"| {seconds * 1000:.1f} | `{_short(statement)}` |")
        lines.append("")
    for (dialect, level), (slowest, plan) in explains.items():
        lines += [
            f"Slowest statement of the national page, {dialect} {level:,}"
            f" ({slowest[0] * 1000:.1f} ms):",
            "",
            "```sql",
            " ".join(slowest[1].split()),
            "```",
            "",
            "```",
            plan,
            "```",
            "",
        ]
    return "\n".join(lines)


def _short(statement: str, width: int = 90) -> str:
    """The table a statement reads and its start, on one line: enough to tell the figure."""
    text = " ".join(statement.split()).replace("|", "\\|")
    tables = re.findall(r"\b(?:FROM|JOIN) (\w+)", text)
    head = text if len(text) <= width else text[: width - 1] + "…"
    return f"{', '.join(dict.fromkeys(tables))}: {head}" if tables else head


if __name__ == "__main__":
    main()
