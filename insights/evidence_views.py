"""The programme evidence page: KPIs and the under-reporting signal, for the analysts
of a region or of the country and the platform administrator; its CSV and its PDF."""

from __future__ import annotations

from flask import Response, abort, render_template, request
from flask_babel import force_locale
from flask_login import current_user

from core.downloads import content_disposition
from core.model_types import utcnow
from core.pdf import pdf_response, render_pdf
from incidents.cases.deadlines import response_targets
from insights import kpis
from insights.dashboard import change_text, percent, share_text
from insights.figures import remember_unit_names
from insights.filters import Level, from_args
from insights.stats import MIN_SURVEY_ANSWERS
from insights.views import _filter_messages, _regions, bp
from school.access import permission_required
from school.models import Permission

EVIDENCE_PDF_LOCALES = ("kk", "ru", "en")


def _filters():
    if request.args.get("school"):
        abort(404)  # the page is about regions and the country; a school has its own dashboard
    return from_args(request.args, current_user)


def _context() -> dict:
    return {
        "share_text": share_text,
        "change_text": change_text,
        "percent": percent,
        "targets": {p.value: span.total_seconds() / 3600 for p, span in response_targets().items()},
        "norm": kpis.NORM_STUDENTS_PER_COUNSELOR,
        "flag_share": kpis.FLAG_PREVALENCE,
        "flag_rate": kpis.FLAG_REPORTS_PER_100,
        "min_answers": MIN_SURVEY_ANSWERS,
    }


@bp.get("/kpis")
@permission_required(Permission.read_programme_evidence)
def kpis_page():
    filters, problems = _filters()
    _filter_messages([p for p in problems if p != "form"])
    regions = _regions()
    remember_unit_names(Level.country, regions)
    ev = kpis.build(current_user, filters)
    query = {k: v for k, v in filters.query_args().items() if k != "form"}
    return render_template(
        "insights/kpis.html",
        ev=ev,
        regions=regions,
        query=query,
        pdf_locales=EVIDENCE_PDF_LOCALES,
        **_context(),
    )


@bp.get("/kpis.csv")
@permission_required(Permission.read_programme_evidence)
def kpis_csv():
    filters, _problems = _filters()
    ev = kpis.build(current_user, filters, export=True)
    name = f"qamqor-kpis-{filters.start.isoformat()}-{filters.end.isoformat()}.csv"
    return Response(
        kpis.to_csv(ev).encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": content_disposition(name), "Cache-Control": "no-store"},
    )


@bp.get("/kpis.pdf")
@permission_required(Permission.read_programme_evidence)
def kpis_pdf():
    locale = request.args.get("lang", "kk")
    if locale not in EVIDENCE_PDF_LOCALES:
        abort(404)
    filters, _problems = _filters()
    with force_locale(locale):
        ev = kpis.build(current_user, filters, export=True)
    data = render_pdf(
        "insights/pdf/kpis.html", locale=locale, ev=ev, generated_at=utcnow(), **_context()
    )
    return pdf_response(data, f"qamqor-kpis-{filters.start}-{filters.end}-{locale}.pdf")
