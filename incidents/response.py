"""The response workflow (issue 4): cases, referrals, the inbox and the oversight pages.

``init_app`` registers the blueprint, the commands, the dashboard links and the demo seeder.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from incidents.deadlines import DEFAULT_RESPONSE_TARGETS


def init_app(app: Flask) -> None:
    from incidents import (  # noqa: F401 - the view modules attach their routes to the blueprint
        cases,
        cli,
        demo_cases,
        inbox,
        oversight,
        referral_views,
        staff,
        staff_work,
        teacher,
    )
    from school.cli import register_demo_seeder
    from school.models import Role
    from school.views import DASHBOARD_LINKS, register_dashboard_link

    app.config.setdefault("RESPONSE_TARGETS", dict(DEFAULT_RESPONSE_TARGETS))
    app.register_blueprint(staff.bp)
    cli.init_app(app)
    register_demo_seeder(app, demo_cases.seed_demo_cases)
    if any(endpoint.startswith("cases.") for endpoint, *_ in DASHBOARD_LINKS):
        return  # the list is module-wide; a second app in one process must not repeat it
    staff_roles = (Role.counselor, Role.school_admin)
    register_dashboard_link("cases.inbox", _l("Inbox: new reports and open cases"), *staff_roles)
    register_dashboard_link("cases.overdue", _l("Overdue"), *staff_roles)
    register_dashboard_link("cases.case_list", _l("All cases"), *staff_roles)
    register_dashboard_link("cases.approvals", _l("Closures to approve"), Role.school_admin)
    register_dashboard_link("cases.audit_log", _l("Audit log"), Role.school_admin, Role.admin)
    register_dashboard_link("cases.teacher_report_new", _l("Report what I saw"), Role.teacher)
    register_dashboard_link("cases.teacher_reports", _l("My reports"), Role.teacher)
    register_dashboard_link("cases.partner_referrals", _l("Referrals to our body"), Role.partner)
    register_dashboard_link("cases.rules", _l("Referral rules"), Role.admin)
