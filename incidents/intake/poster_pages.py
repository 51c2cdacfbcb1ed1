"""The school's QR poster: the page that shows it and its PDF in each language; the link on it
leads to the anonymous report form."""

from __future__ import annotations

from flask import abort, render_template, request
from flask_login import current_user

from core.pdf import pdf_response, render_pdf
from incidents.intake.poster import (
    POSTER_LANGUAGES,
    is_local_address,
    poster_context,
    report_link,
)
from school.access import get_scoped_or_404, permission_required
from school.models import Permission, School


def _poster_school() -> School:
    """The user's own school; a platform admin names one with ``?school=<id>``."""
    if current_user.can(Permission.manage_platform):
        return get_scoped_or_404(
            School, request.args.get("school", type=int) or 0, current_user, School.id
        )
    return current_user.school


@permission_required(Permission.print_poster)
def poster():
    school = _poster_school()
    link = report_link(school)
    return render_template(
        "incidents/reports/poster.html",
        school=school,
        link=link,
        local_address=is_local_address(link),
        school_arg=school.id if current_user.can(Permission.manage_platform) else None,
    )


@permission_required(Permission.print_poster)
def poster_pdf():
    school = _poster_school()
    language = request.args.get("lang", "kk")
    if language not in POSTER_LANGUAGES:
        abort(404)
    data = render_pdf("incidents/poster.html", locale=language, **poster_context(school, language))
    return pdf_response(data, f"qamqor-poster-{school.code}-{language}.pdf")
