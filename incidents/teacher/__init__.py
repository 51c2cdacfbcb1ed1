"""The teacher's named report of what they saw (``named_report``), which opens a case like a
student's report; its addresses in ``urls``."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l


def init_app(app: Flask) -> None:
    from incidents.teacher import urls
    from school.models import Role
    from school.views import register_dashboard_link

    app.register_blueprint(urls.bp)
    register_dashboard_link(
        app,
        "teacher.teacher_report_new",
        _l("Report what I saw"),
        Role.teacher,
        first_for=(Role.teacher,),
    )
    register_dashboard_link(app, "teacher.teacher_reports", _l("My reports"), Role.teacher)
