"""Every address of the teacher's named report (blueprint ``teacher``, under
``/staff/my-reports``)."""

from __future__ import annotations

from flask import Blueprint

from incidents.teacher import named_report
from school.access import refuse_unconfirmed_counselor

bp = Blueprint("teacher", __name__, url_prefix="/staff/my-reports", template_folder="../templates")
bp.before_request(refuse_unconfirmed_counselor)
bp.add_url_rule("", view_func=named_report.teacher_reports, methods=["GET"])
bp.add_url_rule("/new", view_func=named_report.teacher_report_new, methods=["GET", "POST"])
