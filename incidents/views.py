"""Staff views of `incidents`: the school's QR poster, and the old address of the new reports.

The response workflow (cases, actions, referrals) builds on this blueprint.
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core.pdf import pdf_response, render_pdf
from incidents.poster import POSTER_LANGUAGES, poster_context, report_link
from school.access import get_scoped_or_404, roles_required
from school.models import Role, School

bp = Blueprint("incidents", __name__, template_folder="templates")

POSTER_ROLES = (Role.school_admin, Role.counselor, Role.admin)


@bp.get("/staff/reports/new")
@roles_required(Role.counselor)
def new_reports():
    """The new reports are listed in the inbox (most urgent first); this address, from mails
    and bookmarks of earlier versions, leads there."""
    return redirect(url_for("cases.inbox", _anchor="new-reports"), 301)


def _poster_school() -> School:
    """The user's own school; a platform admin names one with ``?school=<id>``."""
    if current_user.role == Role.admin:
        return get_scoped_or_404(
            School, request.args.get("school", type=int) or 0, current_user, School.id
        )
    return current_user.school


@bp.get("/school/poster")
@roles_required(*POSTER_ROLES)
def poster():
    school = _poster_school()
    return render_template(
        "incidents/reports/poster.html",
        school=school,
        link=report_link(school),
        school_arg=school.id if current_user.role == Role.admin else None,
    )


@bp.get("/school/poster.pdf")
@roles_required(*POSTER_ROLES)
def poster_pdf():
    school = _poster_school()
    language = request.args.get("lang", "kk")
    if language not in POSTER_LANGUAGES:
        abort(404)
    data = render_pdf("incidents/poster.html", locale=language, **poster_context(school, language))
    return pdf_response(data, f"qamqor-poster-{school.code}-{language}.pdf")


def init_app(app) -> None:
    from school.views import register_dashboard_link

    register_dashboard_link(
        "incidents.poster", _l("Poster with the report link"), Role.school_admin, Role.counselor
    )
    app.register_blueprint(bp)
