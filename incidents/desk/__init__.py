"""The child-protection duty desk above the schools: ``routing`` (who
holds a new report, from the rules in the table ``routing_rules``, seeded from
``data/routing_rules.csv`` and edited by a platform administrator in ``routing_pages``), ``services`` (what a
desk officer does with a report: read it, answer the child, open the case, hand it back to the
school), ``officers`` (who is told), the pages in ``pages`` and their addresses in ``urls``; the escalation chains
(``escalation``, its tables in ``escalation_models``, working hours in ``hours``, the school
administrator's and the contacts' pages in ``escalation_pages``, ``flask --app app desk escalate``
in ``cli``).

A desk officer (``Role.desk_officer``) is scoped to a region, or to the country when they have
none (``incidents.scopes.desk_report_scope``).
"""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l


def init_app(app: Flask) -> None:
    from incidents.desk import escalation_models, urls  # noqa: F401 - the tables
    from incidents.desk.cli import desk_cli
    from school.models import Role
    from school.views import register_dashboard_link

    app.register_blueprint(urls.bp)
    register_dashboard_link(
        app, "desk.inbox", _l("Duty desk: reports routed to us"), Role.desk_officer
    )
    register_dashboard_link(
        app,
        "desk.escalations",
        _l("Reports waiting for acknowledgement"),
        Role.counselor,
        Role.school_admin,
    )
    register_dashboard_link(
        app, "desk.contacts", _l("Escalation list and working hours"), Role.school_admin
    )
    register_dashboard_link(app, "desk.routing_rules", _l("Routing rules"), Role.admin)
    app.cli.add_command(desk_cli)
