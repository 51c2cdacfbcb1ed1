"""Report and respond: anonymous reports, cases, referrals to authorized bodies."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from incidents import demo, models, privacy, receipts, student, views  # noqa: F401 - models: tables
    from school.cli import register_demo_seeder

    receipts.init_app(app)
    privacy.init_app(app)
    student.init_app(app)
    views.init_app(app)
    register_demo_seeder(app, demo.seed_reports)

    from incidents import response  # the response workflow (issue 4)

    response.init_app(app)

    from core import crypto  # encryption at rest (issue 7)
    from incidents import uploads

    crypto.register_file_store(app, uploads.stored_files)
    # Last: every encrypted column is known now; refuse to start with keys that cannot read them.
    crypto.check_database(app)
