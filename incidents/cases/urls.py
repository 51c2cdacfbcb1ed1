"""Every address of the cases (blueprint ``cases``): the inbox, the case page and its steps, the
case list, the overdue lists and the approvals of closures."""

from __future__ import annotations

from flask import Blueprint

from incidents.cases import case_pages, case_parts_pages, inbox, oversight
from school.access import refuse_unconfirmed_counselor

bp = Blueprint("cases", __name__, template_folder="../templates")
# Every page of this blueprint reads cases: a counselor not yet confirmed is told why not.
bp.before_request(refuse_unconfirmed_counselor)


def _get(rule: str, view) -> None:
    bp.add_url_rule(rule, view_func=view, methods=["GET"])


def _post(rule: str, view) -> None:
    bp.add_url_rule(rule, view_func=view, methods=["POST"])


# --- the inbox --------------------------------------------------------------------------------
_get("/staff/inbox", inbox.inbox)
_get("/staff/reports/new", inbox.new_reports)  # an earlier address: redirects to the inbox
_get("/staff/reports/<opaque:report_id>", inbox.read_report)
_get("/staff/teacher-reports/<opaque:report_id>", inbox.read_teacher_report)
_post("/staff/reports/<opaque:report_id>/open", inbox.open_report)
_post("/staff/teacher-reports/<opaque:report_id>/open", inbox.open_teacher_report)

# --- the case page and its steps ----------------------------------------------------------------
CASE = "/staff/cases/<opaque:case_id>"
_get(CASE, case_pages.case_detail)
_post(CASE + "/triage", case_pages.case_triage)
_post(CASE + "/details", case_pages.case_edit)
_post(CASE + "/step", case_pages.case_step)
_post(CASE + "/close", case_pages.case_close)
_post(CASE + "/reopen", case_pages.case_reopen)
_post(CASE + "/priority", case_pages.case_priority)
_post(CASE + "/people", case_parts_pages.person_add)
_post(CASE + "/people/<opaque:person_id>/remove", case_parts_pages.person_remove)
_post(CASE + "/actions", case_parts_pages.action_add)
_post(CASE + "/actions/<opaque:action_id>/done", case_parts_pages.action_done)
_post(CASE + "/duties/<opaque:duty_id>/met", case_parts_pages.duty_met)
_post(CASE + "/messages", case_parts_pages.message_send)
_get(CASE + "/summary.pdf", case_parts_pages.case_summary)
_get(CASE + "/files/<opaque:file_id>", case_parts_pages.case_file)

# --- oversight --------------------------------------------------------------------------------
_get("/staff/cases", oversight.case_list)
_get("/staff/overdue", oversight.overdue)
_get("/staff/approvals", oversight.approvals)
_post("/staff/approvals/<opaque:request_id>", oversight.approval_decide)
