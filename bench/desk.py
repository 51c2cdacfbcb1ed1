"""The duty desk at national scale (issue 16), on the PostgreSQL bench databases of ``dashboards.py``.

On ``qamqor_bench_<level>`` (a fixed country of 7,500 schools, Almaty 700; made and kept by
``dashboards.py --reuse``): the tables and indexes of the current models are added in place (as
``dashboards.py --reuse`` does), then, once, 1% of the reports are routed to the desk alone and
1% to the desk with the school (``id % 100`` = 7 and 8), and a desk officer of Almaty, a national
desk officer and a counselor of Almaty's busiest school are made. Timed, ``--repeat`` requests
each after a warm-up (median and fastest ms of the whole GET in-process, SQL ms, statements,
bytes, load average): the desk inbox of Almaty and the national one (page 1 and a late page), a
desk report page, the counselor's inbox and case list (the per-row ``school_holds`` check). Then
one pass of the escalation runner (``flask desk escalate``, ``--escalate`` reports at most) in a
transaction rolled back at the end, so the database keeps its candidates: its time, statements
and statements per step, and EXPLAIN ANALYZE of the candidates' query. ``--without`` names
indexes of the models to drop for a "before" run (the next run without it makes them again).

Run: ``.venv/bin/python bench/desk.py --levels 100000,1000000`` (``--save`` appends the table to
``bench/RESULTS.md``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from dashboards import PASSWORD, PG_SERVER, SqlClock, _check  # noqa: E402

DESK_ALMATY = "desk.almaty@bench.invalid"
DESK_NATIONAL = "desk.national@bench.invalid"
COUNSELOR = "counselor@bench.invalid"


def make(level: int):
    from sqlalchemy.engine import make_url

    from app import create_app

    url = make_url(PG_SERVER).set(database=f"qamqor_bench_{level}")
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url.render_as_string(hide_password=False),
            "SECRET_KEY": "bench",
            "PUBLIC_URL": "http://localhost",
            "RATELIMIT_ENABLED": False,
            "TWO_FACTOR_ROLES": "",
            "WTF_CSRF_ENABLED": False,
            "MAIL_SERVER": "",
            "INSTANCE_PATH": "/tmp/qamqor-bench-instance-postgresql",  # noqa: S108 - scratch
        }
    )


def prepare(app, without: tuple[str, ...] = ()) -> None:
    from sqlalchemy import func, select, text, update

    from extensions import db
    from incidents.intake.models import Holder, Report
    from school import services
    from school.models import Region, Role, School, User

    with app.app_context():
        db.create_all()
        _add_columns(db)
        for table in db.metadata.sorted_tables:  # indexes added to the models since last time
            for index in table.indexes:
                if index.name in without:  # measuring without it: dropped if there
                    index.drop(db.engine, checkfirst=True)
                else:
                    index.create(db.engine, checkfirst=True)
        if not db.session.scalar(select(func.count()).where(Report.routing != Holder.school)):
            for rest, holder in ((7, Holder.desk), (8, Holder.both)):
                db.session.execute(
                    update(Report).where(Report.id % 100 == rest).values(routing=holder)
                )
        almaty = db.session.scalar(select(Region).where(Region.iso_code == "KZ-75"))
        busiest = db.session.scalar(
            select(Report.school_id)
            .join(School, School.id == Report.school_id)
            .where(School.region_id == almaty.id)
            .group_by(Report.school_id)
            .order_by(func.count().desc())
            .limit(1)
        )
        for email, role, region, school in (
            (DESK_ALMATY, Role.desk_officer, almaty, None),
            (DESK_NATIONAL, Role.desk_officer, None, None),
            (COUNSELOR, Role.counselor, None, db.session.get(School, busiest)),
        ):
            if db.session.scalar(select(User.id).where(User.email == email)) is None:
                services.create_user(
                    email=email,
                    full_name="Bench user",
                    role=role,
                    password=PASSWORD,
                    school=school,
                    region=region,
                    body=None,
                    locale="en",
                )
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))


def _add_columns(db) -> None:
    """Columns added to existing tables since the database was made (migrations 0017-0019), in
    place as the migrations add them: nullable, or with their server default. A sent referral
    made before then gets an answer due ten days after it was sent, so that some are overdue."""
    from sqlalchemy import inspect, text

    present = inspect(db.engine)
    with db.engine.begin() as connection:
        for table in db.metadata.sorted_tables:
            have = {c["name"] for c in present.get_columns(table.name)}
            for column in table.columns:
                if column.name in have:
                    continue
                kind = column.type.compile(db.engine.dialect)
                default = column.server_default
                extra = f" DEFAULT {default.arg} NOT NULL" if default is not None else ""
                connection.execute(
                    text(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}{extra}")
                )
                if (table.name, column.name) == ("referrals", "answer_due_at"):
                    connection.execute(
                        text(
                            "UPDATE referrals SET answer_due_at = sent_at + interval '10 days'"
                            " WHERE status = 'sent'"
                        )
                    )
        # 0017: the sequence numbers count within a chain.
        connection.execute(
            text("ALTER TABLE audit_entries DROP CONSTRAINT IF EXISTS uq_audit_entries_seq")
        )
        if not connection.scalar(
            text("SELECT 1 FROM pg_constraint WHERE conname = 'uq_audit_entries_chain_seq'")
        ):
            connection.execute(
                text(
                    "ALTER TABLE audit_entries ADD CONSTRAINT uq_audit_entries_chain_seq"
                    " UNIQUE (chain, seq)"
                )
            )


def pages(app, level: int) -> list[tuple[str, str, str]]:
    from sqlalchemy import func, select

    from core.opaque import opaque
    from core.paging import PAGE_SIZE
    from extensions import db
    from incidents.intake.models import Holder, Report
    from school.models import Region, School

    with app.app_context():
        held = select(func.count()).where(Report.routing.in_([Holder.desk, Holder.both]))
        late = max(1, int(db.session.scalar(held) * 0.9) // PAGE_SIZE)
        almaty_report = db.session.scalar(
            select(Report.id)
            .join(School, School.id == Report.school_id)
            .join(Region, Region.id == School.region_id)
            .where(Region.iso_code == "KZ-75", Report.routing == Holder.desk)
            .order_by(Report.id.desc())
            .limit(1)
        )
        token = opaque(almaty_report)
    return [
        ("desk inbox, Almaty p1", DESK_ALMATY, "/desk/inbox"),
        ("desk inbox, national p1", DESK_NATIONAL, "/desk/inbox"),
        (f"desk inbox, national p{late}", DESK_NATIONAL, f"/desk/inbox?page={late}"),
        ("desk report page", DESK_ALMATY, f"/desk/reports/{token}"),
        ("school inbox", COUNSELOR, "/staff/inbox"),
        ("school case list", COUNSELOR, "/staff/cases"),
    ]


def measure_pages(app, level: int, repeat: int) -> list[dict]:
    from extensions import db

    with app.app_context():
        clock = SqlClock(db.engine)
    clients, rows = {}, []
    for name, email, path in pages(app, level):
        if email not in clients:
            client = app.test_client()
            client.get("/lang/en")
            _check(client.post("/login", data={"email": email, "password": PASSWORD}), 302)
            clients[email] = client
        client = clients[email]
        _check(client.get(path), 200)  # warm-up
        times, sql, queries, size = [], [], 0, 0
        for _ in range(repeat):
            clock.records.clear()
            started = time.perf_counter()
            response = client.get(path)
            times.append(time.perf_counter() - started)
            _check(response, 200)
            sql.append(sum(r[0] for r in clock.records))
            queries, size = len(clock.records), len(response.data)
        rows.append(
            {
                "level": level,
                "page": name,
                "ms": statistics.median(times) * 1000,
                "fastest": min(times) * 1000,
                "sql": statistics.median(sql) * 1000,
                "queries": queries,
                "bytes": size,
                "load": os.getloadavg()[0],
            }
        )
        print(rows[-1], flush=True)
    return rows


def measure_escalation(app, level: int, limit: int) -> tuple[dict, str]:
    """One pass of the runner inside a transaction that is rolled back (its commits become
    savepoints), so the candidates stay for the next run."""
    from sqlalchemy import func, select, text
    from sqlalchemy.orm import scoped_session, sessionmaker

    from core.model_types import utcnow
    from extensions import db
    from incidents.desk import escalation

    with app.app_context():
        now = utcnow()
        query = escalation.waiting(now).with_only_columns(Report_id())
        compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
        plan = "\n".join(
            r[0] for r in db.session.execute(text(f"EXPLAIN (ANALYZE, BUFFERS OFF) {compiled}"))
        )
        candidates = db.session.scalar(select(func.count()).select_from(query.subquery()))
        db.session.rollback()
        clock = SqlClock(db.engine)
        connection = db.engine.connect()
        outer = connection.begin()
        # A plain session on that connection (Flask-SQLAlchemy's picks its engine per table).
        kept = db.session
        db.session = scoped_session(
            sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
        )
        try:
            started = time.perf_counter()
            taken = escalation.run(now, limit=limit)
            seconds = time.perf_counter() - started
        finally:
            db.session.remove()
            db.session = kept
            outer.rollback()
            connection.close()
        statements = len(clock.records)
    row = {
        "level": level,
        "candidates": candidates,
        "taken": taken,
        "ms": seconds * 1000,
        "sql": sum(r[0] for r in clock.records) * 1000,
        "statements": statements,
        "per_step": statements / max(taken, 1),
        "load": os.getloadavg()[0],
    }
    print(row, flush=True)
    return row, plan


def Report_id():  # noqa: N802 - a column, read late (after the app is made)
    from incidents.intake.models import Report

    return Report.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default="100000,1000000")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--escalate", type=int, default=300, help="reports at most in the pass")
    parser.add_argument("--without", default="", help="indexes to leave out (comma-separated)")
    parser.add_argument("--save", action="store_true")
    args = parser.parse_args()
    page_rows, runs, plans = [], [], {}
    for level in (int(x) for x in args.levels.split(",")):
        app = make(level)
        prepare(app, tuple(filter(None, args.without.split(","))))
        page_rows += measure_pages(app, level, args.repeat)
        row, plans[level] = measure_escalation(app, level, args.escalate)
        runs.append(row)
    lines = [
        f"Duty desk pages (PostgreSQL) — {datetime.now(UTC):%Y-%m-%d %H:%M UTC},"
        f" {args.repeat} requests each after a warm-up"
        + (f", without {args.without}" if args.without else ""),
        "",
        "| reports | page | median ms | fastest ms | sql ms | statements | bytes | load (1 min) |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {r['level']:,} | {r['page']} | {r['ms']:.0f} | {r['fastest']:.0f} | {r['sql']:.0f}"
        f" | {r['queries']} | {r['bytes']:,} | {r['load']:.1f} |"
        for r in page_rows
    ]
    lines += [
        "",
        "| reports | candidates | steps taken | pass ms | sql ms | statements | per step | load |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {r['level']:,} | {r['candidates']:,} | {r['taken']:,} | {r['ms']:.0f} | {r['sql']:.0f}"
        f" | {r['statements']:,} | {r['per_step']:.1f} | {r['load']:.1f} |"
        for r in runs
    ]
    for level, plan in plans.items():
        lines += ["", f"Candidates' query at {level:,}:", "", "```", plan, "```"]
    report = "\n".join(lines)
    print(report)
    if args.save:
        with (ROOT / "bench" / "RESULTS.md").open("a", encoding="utf-8") as handle:
            handle.write("\n" + report + "\n")


if __name__ == "__main__":
    main()
