"""Cost of the response workflow's queries at region scale.

Builds ``--schools`` schools, each with ``--reports`` student reports over the last 60 days; two
thirds of them taken up as cases (triaged, in progress, referred, monitoring or closed) with three
actions each and, for one case in five, a required referral to the police. Then times, as the
pages and the scheduler run them:
- the inbox of one school (new reports by priority, and open cases with their overdue counts),
- the overdue lists of one school (reports, referrals, actions),
- ``incidents notify-overdue`` over the whole database: the first run (every item notified,
  mails to the log) and a second run with nothing new (what the scheduler pays every few minutes),
- the referral letter PDF of one case.

Run: ``.venv/bin/python bench/response_workflow.py [--schools 200] [--reports 40] [--postgres]``
(SQLite in a temporary folder, or a throwaway PostgreSQL database made and dropped around the
run). Prints a table and appends it to ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import commit, machine, throwaway_database  # noqa: E402 - after the path

STATES = ["triaged", "in_progress", "referred", "monitoring", "closed"]
FORMS = ["bullying", "verbal", "physical", "cyberbullying", "exclusion", "psychological"]


def timed(fn, repeat: int = 5) -> float:
    """Median wall time of ``fn`` in milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def build(schools: int, per_school: int) -> dict[str, int]:
    from sqlalchemy import insert, select, text

    from extensions import db
    from incidents.cases.models import Action, Case, Referral
    from incidents.intake.models import Report, ReportViolenceForm
    from school.models import AuthorizedBody, Region, School, User

    rng = random.Random(11)  # noqa: S311 - made-up benchmark data
    now = datetime.now(UTC)
    region = db.session.scalar(select(Region).where(Region.iso_code == "KZ-71"))
    police = AuthorizedBody(kind="police", region=region, name_kk="Полиция", name_ru="Полиция")
    db.session.add(police)
    counts = {"reports": 0, "cases": 0, "actions": 0, "referrals": 0}
    for n in range(schools):
        school = School(region=region, name=f"School {n}", code=f"r{n:05d}", languages="kk,ru")
        db.session.add(school)
        db.session.flush()
        users = [
            User(
                email=f"{role}{n}@bench.kz",
                full_name=f"{role} {n}",
                role=role,
                school_id=school.id,
                password_hash="-",  # noqa: S106 - bench accounts never log in
            )
            for role in ("counselor", "school_admin")
        ]
        db.session.add_all(users)
        db.session.flush()
        counselor = users[0]
        reports, forms = [], []
        for i in range(per_school):
            created = now - timedelta(hours=rng.randint(0, 60 * 24))
            reports.append(
                dict(
                    school_id=school.id,
                    label=f"B{n:05d}-{i:04d}",
                    receipt_hash=f"{n:05d}{i:05d}".ljust(64, "0"),
                    created_at=created,
                    is_danger_now=False,
                    victim="me",
                    perpetrator="students",
                    place="yard",
                    frequency="few_times",
                    happened="this_week",
                    description="—",
                    priority=rng.choice(["high", "normal", "normal", "low"]),
                    first_response_at=created + timedelta(hours=2) if i % 3 else None,
                )
            )
        ids = db.session.scalars(insert(Report).returning(Report.id), reports).all()
        for report_id in ids:
            forms.append(dict(report_id=report_id, form=rng.choice(FORMS)))
        db.session.execute(insert(ReportViolenceForm), forms)
        counts["reports"] += len(ids)
        cases = []
        for report_id, report in zip(ids, reports, strict=True):
            if report["first_response_at"] is None:
                continue
            state = rng.choice(STATES)
            cases.append(
                dict(
                    school_id=school.id,
                    report_id=report_id,
                    label=report["label"],
                    state=state,
                    counselor_id=counselor.id,
                    screening="bullying",
                    risk="medium",
                    injury=False,
                    narrative="",
                    outcome="resolved" if state == "closed" else None,
                    closing_note="",
                    created_at=report["created_at"],
                    updated_at=report["created_at"],
                    triaged_at=report["first_response_at"],
                    version=1,
                )
            )
        case_ids = db.session.scalars(insert(Case).returning(Case.id), cases).all()
        counts["cases"] += len(case_ids)
        actions, referrals = [], []
        for k, case_id in enumerate(case_ids):
            for kind in ("talk_victim", "talk_perpetrator", "follow_up"):
                due = (now - timedelta(days=rng.randint(-14, 20))).date()
                actions.append(
                    dict(
                        case_id=case_id,
                        kind=kind,
                        due_on=due,
                        required=False,
                        note="",
                        created_at=now,
                        done_at=now if rng.random() < 0.6 else None,
                    )
                )
            if k % 5 == 0:
                referrals.append(
                    dict(
                        case_id=case_id,
                        school_id=school.id,
                        body_kind="police",
                        body_id=police.id,
                        required=True,
                        rule_keys="bench",
                        deadline_at=now - timedelta(hours=rng.randint(-48, 48)),
                        status=rng.choice(["draft", "sent", "acknowledged"]),
                        language="kk",
                        facts_included="forms",
                        facts_text="",
                        reference_number="",
                        body_reference="",
                        outcome_note="",
                        created_at=now,
                    )
                )
        db.session.execute(insert(Action), actions)
        if referrals:
            db.session.execute(insert(Referral), referrals)
        counts["actions"] += len(actions)
        counts["referrals"] += len(referrals)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))
    return counts


def measure(schools: int, per_school: int, url: str | None) -> list[tuple[str, float]]:
    from sqlalchemy import select

    from app import create_app
    from extensions import db
    from incidents.cases import overdue
    from incidents.cases.enums import ReferralStatus
    from incidents.cases.inbox import new_items, open_cases
    from incidents.cases.models import Referral
    from incidents.referrals import letters
    from incidents.scopes import case_scope
    from school import services as school_services
    from school.models import Role, User

    logging.getLogger("app").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url or f"sqlite:///{tmp}/bench.sqlite3",
                "SECRET_KEY": "bench",
                "PUBLIC_URL": "http://localhost",  # the test client's host
                "INSTANCE_PATH": f"{tmp}/instance",
            }
        )
        app.logger.setLevel(logging.WARNING)
        results: list[tuple[str, float]] = []
        with app.app_context():
            db.create_all()
            school_services.load_regions()
            counts = build(schools, per_school)
            results.append(
                (
                    f"data: {schools} schools, {counts['reports']} reports, {counts['cases']} "
                    f"cases, {counts['actions']} actions, {counts['referrals']} referrals",
                    0.0,
                )
            )
            counselor = db.session.scalar(
                select(User).where(User.role == Role.counselor).order_by(User.id).limit(1)
            )
            now = datetime.now(UTC)
            with app.test_request_context():
                results.append(
                    (
                        "inbox of one school: new reports",
                        timed(lambda: new_items(counselor, {})),
                    )
                )
                results.append(
                    (
                        "inbox of one school: open cases with overdue counts",
                        timed(lambda: open_cases(counselor, mine=False)),
                    )
                )
                results.append(
                    (
                        "overdue lists of one school",
                        timed(
                            lambda: overdue.overdue_lists(
                                lambda column: case_scope(counselor, column), now
                            )
                        ),
                    )
                )
                start = time.perf_counter()
                sent = overdue.notify_overdue(now)
                results.append(
                    (
                        f"notify-overdue, first run ({sent} notices)",
                        (time.perf_counter() - start) * 1000,
                    )
                )
                results.append(
                    (
                        "notify-overdue, nothing new (every scheduler run)",
                        timed(lambda: overdue.notify_overdue(now), repeat=3),
                    )
                )
                referral = db.session.scalar(
                    select(Referral).where(Referral.status != ReferralStatus.draft).limit(1)
                )
                results.append(
                    (
                        "referral letter PDF of one case",
                        timed(lambda: letters.render_letter(referral), repeat=3),
                    )
                )
            db.session.remove()
            if url:
                db.drop_all()
            db.engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=200)
    parser.add_argument("--reports", type=int, default=40, help="reports per school")
    parser.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL database")
    args = parser.parse_args()
    if args.postgres:
        with (
            tempfile.TemporaryDirectory() as tmp,
            throwaway_database("postgresql", Path(tmp)) as url,
        ):
            results = measure(args.schools, args.reports, url)
    else:
        results = measure(args.schools, args.reports, None)
    lines = ["| what | median ms |", "| --- | ---: |"]
    for name, ms in results:
        lines.append(f"| {name} | {ms:,.1f} |" if ms else f"| {name} | |")
    table = "\n".join(lines)
    print(table)
    engine = "postgresql" if args.postgres else "sqlite"
    heading = (
        f"\n## Response workflow queries ({engine}) — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n\n"
        f"Machine: {machine()}; commit {commit()}.\n\n"
    )
    with (ROOT / "bench" / "RESULTS.md").open("a", encoding="utf-8") as handle:
        handle.write(heading + table + "\n")


if __name__ == "__main__":
    main()
