"""The demo seeder, and the rate limits on the anonymous forms."""

from __future__ import annotations

from sqlalchemy import func, select

from extensions import db, limiter
from incidents.intake.demo import seed_reports
from incidents.intake.models import AuthorKind, Message, Report
from school.cli import DEMO_SCHOOL_CODE, seed_directory
from school.models import School


def test_demo_seeder_adds_sample_reports_once(app, capsys):
    # Only this package's seeder: `seed-demo` also runs the other packages' ones.
    seed_directory()
    seed_reports()
    assert "receipt" in capsys.readouterr().out
    reports = db.session.scalar(select(func.count()).select_from(Report))
    assert reports >= 4
    school_ids = set(db.session.scalars(select(Report.school_id)))
    assert school_ids == {
        db.session.scalar(select(School.id).where(School.code == DEMO_SCHOOL_CODE))
    }
    kinds = set(db.session.scalars(select(Message.author_kind)))
    assert kinds == {AuthorKind.staff, AuthorKind.reporter}
    seed_reports()
    assert db.session.scalar(select(func.count()).select_from(Report)) == reports


def test_seed_demo_command_registers_the_report_seeder(app):
    assert seed_reports in app.extensions["qamqor_demo_seeders"]


def test_receipt_look_ups_are_rate_limited_with_an_anonymous_429(app):
    app.config.update(RATELIMIT_ENABLED=True, RECEIPT_RATE_LIMIT="3 per minute")
    limiter.init_app(app)
    try:
        client = app.test_client()
        statuses = [client.post("/r/check", data={"code": "1"}).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        refused = client.post("/r/check", data={"code": "1"})
        assert refused.headers["Referrer-Policy"] == "no-referrer"
        assert refused.headers["Cache-Control"] == "no-store"
        other = client.post(
            "/r/check", data={"code": "1"}, environ_base={"REMOTE_ADDR": "10.9.9.9"}
        )
        assert other.status_code == 200
    finally:
        app.config["RATELIMIT_ENABLED"] = False
        limiter.init_app(app)
