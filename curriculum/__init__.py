"""Prevention: the psychosocial-skills lesson library, lesson delivery and the staff course."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l


def init_app(app: Flask) -> None:
    from curriculum import cli, course_views, models, public_views, views  # noqa: F401 - routes
    from school.models import Role
    from school.views import register_dashboard_link

    app.register_blueprint(views.bp)
    app.register_blueprint(public_views.public)
    cli.init_app(app)
    staff = (Role.teacher, Role.counselor, Role.school_admin)
    register_dashboard_link(app, "curriculum.library", _l("Lesson library"), *staff, Role.admin)
    register_dashboard_link(
        app, "curriculum.my_classes", _l("My classes: plan and log lessons"), *staff
    )
    register_dashboard_link(app, "curriculum.coverage", _l("Programme coverage"), Role.school_admin)
    register_dashboard_link(app, "curriculum.course_home", _l("Staff course"), *staff, Role.admin)
    register_dashboard_link(
        app, "public.public_index", _l("Leaflets for parents and public pages"), *staff
    )
