"""Time to make the platform's PDFs, through their routes as a user asks for them.

- a referral letter (the demo case referred to the juvenile police), as the demo counselor;
- a lesson handout (one page), as the demo teacher;
- the lesson handbook of all 24 lessons, each with its handout (``/lessons/handbook.pdf``);
- the regional statistics report (``/insights/report.pdf``) of the demo analyst's region, over
  ``--reports`` synthetic reports across the country (with cases, referrals and surveys).

Each is requested ``--repeat`` times (after one warm-up); the median and the size are reported.
Run: ``.venv/bin/python bench/documents.py`` (SQLite, then a throwaway PostgreSQL database;
about three minutes). Prints a table and appends it to ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402 - after the path is set
    COUNSELOR,
    DEMO_PASSWORD,
    append_results,
    heading,
    make_app,
    scratch,
    seed_demo,
    table,
    throwaway_database,
)
from core.opaque import opaque  # noqa: E402

TEACHER = "teacher@demo.qamqor.kz"
ANALYST = "analyst@demo.qamqor.kz"
DESK_OFFICER = "desk@demo.qamqor.kz"


def prepare(app, reports: int) -> dict:
    from sqlalchemy import select, text

    from curriculum.models import Lesson
    from extensions import db
    from incidents.cases.enums import ReferralStatus
    from incidents.cases.models import Case, Referral
    from incidents.intake.models import Holder, Report
    from insights import synthetic

    info = seed_demo(app)
    with app.app_context():
        synthetic.generate(reports, survey_share=0.01, seed=11)
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE"))
        # The demo's sent referral; the duty desk holds its report when the child named school
        # staff, and then the desk officer, not the school's counselor, prints its letter.
        referral_id, routing = db.session.execute(
            select(Referral.id, Report.routing)
            .join(Case, Case.id == Referral.case_id)
            .outerjoin(Report, Report.id == Case.report_id)
            .where(Referral.school_id == info["school_id"], Referral.status != ReferralStatus.draft)
            .order_by(Referral.id)
        ).first()
        info["referral_id"] = referral_id
        info["letter_reader"] = DESK_OFFICER if routing == Holder.desk else COUNSELOR
        info["lesson"] = db.session.scalar(
            select(Lesson.slug).where(Lesson.band == "5-9").order_by(Lesson.position)
        )
        db.session.remove()
    return info


def timed(app, email: str, path: str, repeat: int, before=None) -> tuple[float, int, int]:
    """(median ms, bytes, pages) of ``GET path`` as ``email``; ``before`` runs before each
    request (to forget a document the app keeps)."""
    import io

    from pypdf import PdfReader

    client = app.test_client()
    login = client.post("/login", data={"email": email, "password": DEMO_PASSWORD})
    if login.status_code != 302:
        raise SystemExit(f"log-in as {email}: HTTP {login.status_code}")
    times = []
    for attempt in range(repeat + 1):
        if before is not None:
            before()
        started = time.perf_counter()
        response = client.get(path)
        elapsed = time.perf_counter() - started
        if response.status_code != 200 or response.mimetype != "application/pdf":
            raise SystemExit(f"{path}: HTTP {response.status_code} {response.mimetype}")
        if attempt:  # the first one warms the fonts and templates
            times.append(elapsed)
    pages = len(PdfReader(io.BytesIO(response.data)).pages)
    return statistics.median(times) * 1000, len(response.data), pages


def measure(dialect: str, reports: int, repeat: int) -> list[list]:
    rows = []
    with (
        scratch(f"qamqor-documents-{dialect}-") as folder,
        throwaway_database(dialect, folder) as url,
    ):
        app = make_app(url, folder / "instance", WTF_CSRF_ENABLED=False)
        info = prepare(app, reports)
        with app.app_context():
            referral = opaque(info["referral_id"])
        documents = [
            (
                "referral letter (kk)",
                info["letter_reader"],
                f"/staff/referrals/{referral}/letter.pdf",
            ),
            ("lesson handout (kk)", TEACHER, f"/lessons/{info['lesson']}/handout.pdf?lang=kk"),
            (
                "handbook of all 24 lessons with handouts (kk)",
                TEACHER,
                "/lessons/handbook.pdf?lang=kk",
            ),
            (
                "handbook of one band, 8 lessons (ru)",
                TEACHER,
                "/lessons/handbook.pdf?band=5-9&lang=ru",
            ),
            (
                f"regional statistics report, Astana, 12 months ({reports:,} reports nationally)",
                ANALYST,
                "/insights/report.pdf?lang=kk",
            ),
        ]
        import shutil

        from core.pdf import KEPT_DIR

        def forget_handbooks() -> None:
            shutil.rmtree(Path(app.instance_path) / KEPT_DIR, ignore_errors=True)

        for name, email, path in documents:
            handbook = "handbook" in name
            runs = [(name, forget_handbooks if handbook else None)]
            if handbook:  # the same handbook again: kept in the instance folder since it was made
                runs.append((f"{name}, asked for again", None))
            for label, before in runs:
                times = max(1, repeat // 2) if "all 24" in label and before else repeat
                ms, size, pages = timed(app, email, path, times, before)
                rows.append([dialect, label, f"{ms:,.0f}", pages, f"{size / 1024:,.0f}"])
                print(
                    f"  {label:<70} {ms:8.0f} ms  {pages:3d} pages  {size / 1024:6.0f} KB",
                    flush=True,
                )
        with app.app_context():
            from extensions import db

            db.engine.dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dialects", default="sqlite,postgresql")
    parser.add_argument("--reports", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args()
    rows = [
        row
        for dialect in args.dialects.split(",")
        for row in measure(dialect, args.reports, args.repeat)
    ]
    text = heading("Documents: time to make each PDF")
    text += (
        f"\nThrough the routes (test client, one process), median of {args.repeat} after a"
        " warm-up (the 24-lesson handbook: fewer). WeasyPrint. A handbook is made once and"
        " kept in the instance folder (core.pdf.kept_pdf), for every worker and restart: its"
        " first row is the making, its second a request for the same handbook again.\n\n"
    )
    text += table(["database", "document", "median ms", "pages", "KB"], rows, "llrrr")
    print(text)
    if not args.no_save:
        append_results(text)


if __name__ == "__main__":
    main()
