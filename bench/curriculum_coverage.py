"""Cost of the curriculum's coverage queries at region scale, and of loading the content.

Builds one region's worth of data (``--schools`` schools of 22 classes each, about 12 lessons
logged per class), then times, as the pages run them:
- the coverage summary of the whole region (one aggregate query),
- the per-class progress table of one school (one GROUP BY query),
- the same table for every class of the region,
- ``curriculum load`` on an empty database and again with nothing changed.

Run: ``.venv/bin/python bench/curriculum_coverage.py [--schools 200] [--database URL]``
(SQLite in a temporary folder unless a database URL is given; an existing database is not
touched: a PostgreSQL URL must name a throwaway database). Prints a table and appends it to
``bench/RESULTS.md`` with the date, the machine and the commit.
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CLASSES = [(grade, letter) for grade in range(1, 12) for letter in ("А", "Б")]


def timed(fn, repeat: int = 5) -> float:
    """Median wall time of ``fn`` in milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def build(schools: int) -> tuple[int, int]:
    from sqlalchemy import insert, select, text

    from curriculum.models import Delivery, Lesson
    from extensions import db
    from school.models import Classroom, Region, School, User, grade_band

    rng = random.Random(5)  # noqa: S311 - made-up benchmark data
    region = db.session.scalar(select(Region).where(Region.iso_code == "KZ-71"))
    lessons = {}
    for lesson in db.session.scalars(select(Lesson)):
        lessons.setdefault(lesson.band, []).append(lesson)
    rows, classes = [], 0
    for n in range(schools):
        school = School(region=region, name=f"School {n}", code=f"b{n:05d}", languages="kk,ru")
        db.session.add(school)
        db.session.flush()
        teacher = User(
            email=f"t{n}@bench.kz",
            full_name=f"Teacher {n}",
            role="teacher",
            school_id=school.id,
            password_hash="-",  # noqa: S106 - no password: a bench account never logs in
        )
        db.session.add(teacher)
        db.session.flush()
        for grade, letter in CLASSES:
            classroom = Classroom(school_id=school.id, grade=grade, letter=letter, language="kk")
            db.session.add(classroom)
            db.session.flush()
            classes += 1
            band = lessons[grade_band(grade)]
            for i in range(rng.randint(6, 18)):
                lesson = band[i % len(band)]
                done = rng.randint(lesson.step_count - 2, lesson.step_count)
                rows.append(
                    dict(
                        school_id=school.id,
                        classroom_id=classroom.id,
                        lesson_id=lesson.id,
                        teacher_id=teacher.id,
                        delivered_on=date(2026, 9, 1) + timedelta(days=7 * i),
                        language="kk",
                        minutes_used=rng.randint(30, lesson.duration),
                        students_present=rng.randint(15, 30),
                        steps_done=list(range(done)),
                        steps_done_count=done,
                        steps_total=lesson.step_count,
                        reflection="",
                    )
                )
    db.session.execute(insert(Delivery), rows)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # What autovacuum does soon after a bulk load; without it the planner guesses blind.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))
    return classes, len(rows)


def measure(schools: int, url: str | None) -> list[tuple[str, float]]:
    from sqlalchemy import select

    from app import create_app
    from curriculum import services
    from curriculum.content import load_library
    from curriculum.loader import load_content
    from extensions import db
    from school import services as school_services
    from school.models import Classroom, Region, School

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url or f"sqlite:///{tmp}/bench.sqlite3",
                "SECRET_KEY": "bench",
                "PUBLIC_URL": "http://localhost",  # the test client's host
                "INSTANCE_PATH": f"{tmp}/instance",
            }
        )
        results = []
        with app.app_context():
            db.create_all()
            school_services.load_regions()
            library = load_library()
            start = time.perf_counter()
            load_content(library)
            db.session.commit()
            results.append(
                ("curriculum load, empty database", (time.perf_counter() - start) * 1000)
            )
            results.append(
                (
                    "curriculum load, nothing changed",
                    timed(lambda: (load_content(library), db.session.commit())),
                )
            )
            classes, deliveries = build(schools)
            results.insert(
                0, (f"data: {schools} schools, {classes} classes, {deliveries} lessons logged", 0.0)
            )
            region = db.session.scalar(select(Region).where(Region.iso_code == "KZ-71"))
            one = db.session.scalar(select(School).order_by(School.id).limit(1))
            in_region = Classroom.school_id.in_(
                select(School.id).where(School.region_id == region.id)
            )
            results.append(
                ("coverage summary of the region", timed(lambda: services.coverage(in_region)))
            )
            results.append(
                (
                    "progress table of one school (22 classes)",
                    timed(lambda: services.class_progress(Classroom.school_id == one.id, "kk")),
                )
            )
            results.append(
                (
                    f"progress table of every class of the region ({classes})",
                    timed(lambda: services.class_progress(in_region, "kk"), repeat=3),
                )
            )
            db.session.remove()
            if url:
                db.drop_all()
            db.engine.dispose()
    return results


def commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=200)
    parser.add_argument("--database", help="a throwaway database URL (default: SQLite in /tmp)")
    args = parser.parse_args()
    results = measure(args.schools, args.database)
    lines = ["| what | median ms |", "| --- | ---: |"]
    for name, ms in results:
        lines.append(f"| {name} | {ms:,.1f} |" if ms else f"| {name} | |")
    table = "\n".join(lines)
    print(table)
    engine = (args.database or "sqlite").split(":")[0]
    machine = f"{platform.node()}, {platform.machine()}, Python {platform.python_version()}"
    heading = (
        f"\n## Curriculum coverage queries ({engine}) — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n\n"
        f"Machine: {machine}; commit {commit()}.\n\n"
    )
    with (ROOT / "bench" / "RESULTS.md").open("a", encoding="utf-8") as handle:
        handle.write(heading + table + "\n")


if __name__ == "__main__":
    main()
