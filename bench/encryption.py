"""Encryption at rest at scale: what reading encrypted texts, a key rotation and the retention
purge cost.

Builds ``--reports`` student reports in one school, each with a description of 600 characters and
three messages of 200, and a closed case with a narrative of 600 characters and a closing note;
half of the cases were closed four years ago. Then times:
- the bulk insert (every text encrypted on the way),
- reading 1,000 message bodies through the model (decrypted) and the same rows raw,
- the start-up key check of ``create_app`` (one query per encrypted column),
- ``flask --app app crypto rotate`` over everything (values and files re-encrypted per second),
- ``flask --app app incidents purge`` (the old half of the cases).

Run: ``.venv/bin/python bench/encryption.py [--reports 10000] [--postgres]`` (SQLite in a temporary
folder, or a throwaway PostgreSQL database). Prints a table and appends it to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402 - after the path
    append_results,
    heading,
    make_app,
    table,
    throwaway_database,
)

DESCRIPTION = ("Сыныптағы екі бала күнде мені мазақтайды, атымды бұрмалап айтады. " * 10)[:600]
MESSAGE = ("Бүгін тағы болды, үзілісте дәлізде. Не істеймін? " * 5)[:200]


def build(reports: int) -> int:
    """The school and its reports, messages and closed cases; returns the encrypted values."""
    from sqlalchemy import insert

    from extensions import db
    from incidents.cases.models import Case
    from incidents.intake.models import Message, Report
    from school.models import Region, School

    now = datetime.now(UTC)
    region = Region(iso_code="KZ-71", kind="city", name_kk="Астана", name_ru="Астана", name_en="-")
    school = School(region=region, name="Bench school", code="bench1", languages="kk")
    db.session.add_all([region, school])
    db.session.flush()
    values = 0
    for start in range(0, reports, 2000):
        rows = [
            dict(
                school_id=school.id,
                label=f"E{n:07d}",
                receipt_hash=f"{n:07d}".ljust(64, "0"),
                created_at=now - timedelta(days=1500),
                is_danger_now=False,
                victim="me",
                perpetrator="students",
                place="yard",
                frequency="daily",
                happened="this_week",
                description=DESCRIPTION,
                priority="normal",
            )
            for n in range(start, min(start + 2000, reports))
        ]
        ids = db.session.scalars(insert(Report).returning(Report.id), rows).all()
        messages = [
            dict(report_id=report_id, author_kind="reporter", body=MESSAGE, created_at=now)
            for report_id in ids
            for _ in range(3)
        ]
        db.session.execute(insert(Message), messages)
        cases = [
            dict(
                school_id=school.id,
                report_id=report_id,
                label=f"C{report_id:07d}",
                state="closed",
                screening="bullying",
                risk="medium",
                injury=False,
                narrative=DESCRIPTION,
                outcome="resolved",
                closing_note=MESSAGE,
                created_at=now - timedelta(days=1500),
                updated_at=now,
                closed_at=now - timedelta(days=1460 if report_id % 2 else 10),
                version=1,
            )
            for report_id in ids
        ]
        db.session.execute(insert(Case), cases)
        db.session.commit()
        values += len(ids) * 6
    return values


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return (time.perf_counter() - start) * 1000, result


def measure(dialect: str, reports: int) -> list[list]:
    from sqlalchemy import Text, select, type_coerce

    from extensions import db
    from incidents.intake.models import Message

    logging.getLogger("core.crypto").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp, throwaway_database(dialect, Path(tmp)) as url:
        app = make_app(url, Path(tmp) / "instance")
        rows = []
        with app.app_context():
            db.create_all()
            ms, values = timed(lambda: build(reports))
            rows.append(
                [
                    f"bulk insert, {values:,} texts encrypted",
                    f"{ms:,.0f}",
                    f"{values / ms * 1000:,.0f} values/s",
                ]
            )
            decrypted = select(Message.body).limit(1000)
            raw = select(type_coerce(Message.body, Text)).limit(1000)
            db.session.execute(raw).all()  # warm the cache
            ms_raw, _ = timed(lambda: db.session.execute(raw).all())
            ms_dec, _ = timed(lambda: db.session.execute(decrypted).all())
            rows.append(["1,000 message bodies, raw", f"{ms_raw:.1f}", ""])
            rows.append(
                [
                    "1,000 message bodies, decrypted",
                    f"{ms_dec:.1f}",
                    f"+{(ms_dec - ms_raw) / 1000 * 1000:.1f} µs a value",
                ]
            )
            db.session.remove()
        ms, _ = timed(lambda: make_app(url, Path(tmp) / "instance"))
        rows.append(["create_app with the start-up key check", f"{ms:.0f}", ""])
        runner = app.test_cli_runner()
        with app.app_context():
            ms, result = timed(lambda: runner.invoke(args=["crypto", "rotate", "--grace", "0"]))
            assert result.exit_code == 0, result.output  # noqa: S101 - a bench check
            done = int(result.output.split("values re-encrypted: ")[1].split()[0])
            rows.append(
                [
                    f"crypto rotate, {done:,} values",
                    f"{ms:,.0f}",
                    f"{done / ms * 1000:,.0f} values/s",
                ]
            )
            ms, result = timed(lambda: runner.invoke(args=["incidents", "purge"]))
            assert result.exit_code == 0, result.output  # noqa: S101 - a bench check
            purged = int(result.output.split("closed cases purged: ")[1].split()[0])
            rows.append(
                [
                    f"incidents purge, {purged:,} cases",
                    f"{ms:,.0f}",
                    f"{purged / ms * 1000:,.0f} cases/s",
                ]
            )
            db.session.remove()
            db.engine.dispose()
        return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=10_000)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    dialect = "postgresql" if args.postgres else "sqlite"
    rows = measure(dialect, args.reports)
    text = (
        heading(f"Encryption at rest ({dialect}), {args.reports:,} reports")
        + "\n"
        + table(["step", "ms", "rate"], rows, "lrr")
        + "\n"
    )
    print(text)
    append_results(text)


if __name__ == "__main__":
    main()
