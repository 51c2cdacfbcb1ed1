"""Every address of the intake: the anonymous student pages under ``/r`` (blueprint ``report``)
and the school's QR poster (blueprint ``poster``, staff)."""

from __future__ import annotations

from flask import Blueprint
from werkzeug.exceptions import RequestEntityTooLarge

from core.anonymity import anonymous_blueprint
from incidents.intake import conversation_pages, poster_pages, report_pages, student_pages

TEMPLATES = "../templates"  # incidents/templates, shared by the four parts

# Anonymous: no-store, no-referrer, no access log line, for every address under /r.
report = anonymous_blueprint("report", __name__, url_prefix="/r", template_folder=TEMPLATES)
report.context_processor(student_pages.student_context)
report.register_error_handler(429, student_pages.too_many)
report.register_error_handler(RequestEntityTooLarge, student_pages.too_large)
report.add_url_rule("/", view_func=student_pages.find_school, methods=["GET"])
report.add_url_rule("/go", view_func=student_pages.go, methods=["GET"])
report.add_url_rule("/<code>", view_func=report_pages.form, methods=["GET", "POST"])
report.add_url_rule("/<code>/danger", view_func=report_pages.danger, methods=["GET", "POST"])
report.add_url_rule("/check", view_func=conversation_pages.check, methods=["GET", "POST"])
report.add_url_rule(
    "/conversation", view_func=conversation_pages.conversation, methods=["GET", "POST"]
)
report.add_url_rule("/exit", view_func=student_pages.quick_exit, methods=["GET"])

poster = Blueprint("poster", __name__, url_prefix="/school", template_folder=TEMPLATES)
poster.add_url_rule("/poster", view_func=poster_pages.poster, methods=["GET"])
poster.add_url_rule("/poster.pdf", view_func=poster_pages.poster_pdf, methods=["GET"])
