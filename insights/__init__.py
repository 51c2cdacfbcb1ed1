"""Measure: anonymous class climate surveys and administrative statistics."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l


def init_app(app: Flask) -> None:
    from insights import (  # noqa: F401 - tables register
        cli,
        evidence_views,
        models,
        rollup,
        stats,
        student,
        views,
    )
    from school.cli import register_demo_seeder
    from school.models import Role
    from school.views import register_dashboard_link

    stats.init_app(app)
    app.register_blueprint(views.bp)
    app.register_blueprint(student.bp)
    cli.init_app(app)
    register_demo_seeder(app, cli.seed_demo_surveys)
    register_dashboard_link(
        app,
        "insights.dashboard",
        _l("Statistics"),
        Role.admin,
        Role.analyst,
        Role.school_admin,
        Role.counselor,
    )
    register_dashboard_link(
        app,
        "insights.waves",
        _l("Class climate surveys"),
        Role.counselor,
        Role.teacher,
        Role.school_admin,
    )
    register_dashboard_link(app, "insights.results", _l("Survey results"), Role.analyst, Role.admin)
    register_dashboard_link(
        app, "insights.kpis_page", _l("Programme evidence"), Role.analyst, Role.admin
    )
