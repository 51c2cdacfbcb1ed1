"""The child-protection duty desk above the schools (issue 16, first slice): ``routing`` (who
holds a new report, from the rules shipped in ``data/routing_rules.csv``), ``services`` (what a
desk officer does with a report: read it, answer the child, open the case, hand it back to the
school), the pages in ``pages`` and their addresses in ``urls``.

A desk officer (``Role.desk_officer``) is scoped to a region, or to the country when they have
none (``incidents.scopes.desk_report_scope``).
"""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l


def init_app(app: Flask) -> None:
    from incidents.desk import urls
    from school.models import Role
    from school.views import register_dashboard_link

    app.register_blueprint(urls.bp)
    register_dashboard_link("desk.inbox", _l("Duty desk: reports routed to us"), Role.desk_officer)
