"""The referrals to authorized bodies: ``services`` (the rules table, required referrals and
their deadlines, the steps of a referral), ``answers`` (the body's answer; the time it has in ``answer_times``),
``letters`` (the referral letter); the counselor's
pages in ``referral_pages``, the platform administrator's rules in ``rule_pages``, the partner's
pages (their own blueprint) in ``partner_pages``; their addresses in ``urls``."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l


def init_app(app: Flask) -> None:
    from incidents.referrals import urls
    from school.models import Role
    from school.views import register_dashboard_link

    app.register_blueprint(urls.referrals)
    app.register_blueprint(urls.partner)
    register_dashboard_link(
        app, "partner.partner_referrals", _l("Referrals to our body"), Role.partner
    )
    register_dashboard_link(app, "referrals.rules", _l("Referral rules"), Role.admin)
