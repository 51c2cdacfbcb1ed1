"""The cases: what the school does with a report. ``models`` and ``enums`` (the case, its people,
actions, steps; the referrals' tables in ``referral_models``, the duties' in ``duty_models``),
``duties`` (the legal duties as clocks), ``attention`` (what the staff home page puts first), ``state_machine`` (the one place that moves a case from state to
state), ``case_steps`` (the work inside a case), ``deadlines``, ``overdue``, ``retention``; the
staff pages in ``inbox``, ``case_pages``, ``case_parts_pages`` and ``oversight``, with the helpers
they share in ``view_helpers``; their addresses in ``urls``.

``init_app`` registers the blueprint, the commands, the dashboard links and the demo seeder.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l


def init_app(app: Flask) -> None:
    from core.config import check_choices
    from incidents import cli
    from incidents.cases import demo, models, urls  # noqa: F401 - models: tables
    from incidents.cases.attention import needs_action
    from incidents.intake.models import Priority
    from school.cli import register_demo_seeder
    from school.models import Role
    from school.views import register_dashboard_attention, register_dashboard_link

    check_choices(app.config, "RESPONSE_TARGETS", [priority.value for priority in Priority])
    app.register_blueprint(urls.bp)
    cli.init_app(app)
    register_demo_seeder(app, demo.seed_demo_cases)
    staff_roles = (Role.counselor, Role.school_admin)
    register_dashboard_attention(app, needs_action)
    register_dashboard_link(
        app, "cases.inbox", _l("Inbox: new reports and open cases"), *staff_roles
    )
    register_dashboard_link(app, "cases.overdue", _l("Overdue"), *staff_roles)
    register_dashboard_link(app, "cases.case_list", _l("All cases"), *staff_roles)
    register_dashboard_link(app, "cases.approvals", _l("Closures to approve"), Role.school_admin)
    # The audit page is the school's (school.audit_page); its link stays after the case pages'.
    register_dashboard_link(app, "audit.audit_log", _l("Audit log"), Role.school_admin, Role.admin)
