"""Every address of the referrals: the counselor's referral pages and the platform administrator's
rules (blueprint ``referrals``), and the partner's pages (blueprint ``partner``, under
``/partner``)."""

from __future__ import annotations

from flask import Blueprint

from incidents.referrals import partner_pages, referral_pages, rule_pages
from school.access import refuse_unconfirmed_counselor

TEMPLATES = "../templates"  # incidents/templates, shared by the four parts
GET, POST, BOTH = ["GET"], ["POST"], ["GET", "POST"]

referrals = Blueprint("referrals", __name__, template_folder=TEMPLATES)
# These pages read cases: a counselor not yet confirmed is told why not.
referrals.before_request(refuse_unconfirmed_counselor)
REFERRAL = "/staff/referrals/<opaque:referral_id>"
referrals.add_url_rule(
    "/staff/cases/<opaque:case_id>/referrals", view_func=referral_pages.referral_new, methods=POST
)
referrals.add_url_rule(REFERRAL, view_func=referral_pages.referral_detail, methods=BOTH)
referrals.add_url_rule(REFERRAL + "/send", view_func=referral_pages.referral_send, methods=POST)
referrals.add_url_rule(REFERRAL + "/delete", view_func=referral_pages.referral_delete, methods=POST)
referrals.add_url_rule(
    REFERRAL + "/letter.pdf", view_func=referral_pages.referral_letter, methods=GET
)
referrals.add_url_rule("/admin/referral-rules", view_func=rule_pages.rules, methods=GET)
referrals.add_url_rule(
    "/admin/referral-rules/new",
    view_func=rule_pages.rule_edit,
    methods=BOTH,
    defaults={"rule_id": None},
)
referrals.add_url_rule(
    "/admin/referral-rules/<int:rule_id>", view_func=rule_pages.rule_edit, methods=BOTH
)

partner = Blueprint("partner", __name__, url_prefix="/partner", template_folder=TEMPLATES)
partner.before_request(refuse_unconfirmed_counselor)
partner.add_url_rule("/referrals", view_func=partner_pages.partner_referrals, methods=GET)
PARTNER_REFERRAL = "/referrals/<opaque:referral_id>"
partner.add_url_rule(PARTNER_REFERRAL, view_func=partner_pages.partner_referral, methods=GET)
partner.add_url_rule(
    PARTNER_REFERRAL + "/acknowledge", view_func=partner_pages.partner_acknowledge, methods=POST
)
partner.add_url_rule(
    PARTNER_REFERRAL + "/outcome", view_func=partner_pages.partner_outcome, methods=POST
)
partner.add_url_rule(PARTNER_REFERRAL + "/undo", view_func=partner_pages.partner_undo, methods=POST)
partner.add_url_rule(
    PARTNER_REFERRAL + "/letter.pdf", view_func=partner_pages.partner_letter, methods=GET
)
