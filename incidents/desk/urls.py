"""Every address of the duty desk (blueprint ``desk``): its inbox and a report's page with its
steps (answer the child, open the case, hand the report back to the school)."""

from __future__ import annotations

from flask import Blueprint

from incidents.desk import escalation_pages, pages, routing_pages

bp = Blueprint("desk", __name__, template_folder="../templates")

REPORT = "/desk/reports/<opaque:report_id>"
bp.add_url_rule("/desk/inbox", view_func=pages.inbox, methods=["GET"])
bp.add_url_rule(REPORT, view_func=pages.report_detail, methods=["GET"])
bp.add_url_rule(REPORT + "/messages", view_func=pages.message_send, methods=["POST"])
bp.add_url_rule(REPORT + "/open", view_func=pages.open_case, methods=["POST"])
bp.add_url_rule(REPORT + "/hand-back", view_func=pages.hand_back, methods=["POST"])

# Escalation chains: the school administrator's list and hours, the staff's acknowledgements.
bp.add_url_rule("/school/escalation", view_func=escalation_pages.contacts, methods=["GET", "POST"])
bp.add_url_rule("/staff/escalation", view_func=escalation_pages.escalations, methods=["GET"])
bp.add_url_rule(
    "/staff/escalation/<opaque:report_id>/acknowledge",
    view_func=escalation_pages.acknowledge,
    methods=["POST"],
)

# The routing rules, edited by a platform administrator.
bp.add_url_rule(
    "/admin/routing-rules",
    "routing_rules",
    view_func=routing_pages.rules,
    methods=["GET", "POST"],
)
