"""The anonymous intake: a student's report, its files, its receipt and the conversation after it;
the school's QR poster that leads to it. Nothing here knows the reporter's address.

``models`` (reports, messages, attachments and their vocabularies), ``forms`` and ``form_page``
(the report form), ``reporting`` (submit, find by receipt, talk, tell staff), ``school_finder``,
``status`` (what the child is told), ``receipts``, ``uploads``, ``priority``; the pages in ``student_pages`` (shared parts, finding the school,
quick exit), ``report_pages`` (the report), ``conversation_pages`` (coming back with the code) and
``poster_pages``, their addresses in ``urls``.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l


def init_app(app: Flask) -> None:
    from core import crypto
    from incidents.intake import demo, models, receipts, student_pages, uploads, urls  # noqa: F401 - models: tables
    from school.cli import register_demo_seeder
    from school.models import Role
    from school.views import register_dashboard_link

    receipts.init_app(app)
    app.register_blueprint(urls.report)
    register_dashboard_link(
        app, "poster.poster", _l("Poster with the report link"), Role.school_admin, Role.counselor
    )
    app.register_blueprint(urls.poster)
    register_demo_seeder(app, demo.seed_reports)
    crypto.register_file_store(app, uploads.stored_files)
