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
