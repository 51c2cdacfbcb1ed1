"""Staff pages: dashboards, exports, the PDF report, survey waves and survey results."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core.collation import collated
from core.downloads import content_disposition
from core.model_types import utcnow
from core.pdf import pdf_response, render_pdf
from extensions import db
from incidents.cases.deadlines import response_targets
from incidents.intake.models import ViolenceForm
from insights import dashboard as boards
from insights import surveys
from insights.charts_view import dashboard_charts, survey_chart
from insights.figures import remember_unit_names
from insights.filters import FIRST_DAY, LAST_DAY, Level, from_args
from insights.forms import CloseWaveForm, OpenWaveForm
from insights.models import MIN_SURVEY_GRADE, SurveyWave, WaveKind
from insights.questionnaire import questionnaire
from insights.results import survey_results, unit_prevalence, wave_conditions
from insights.stats import MEDIAN_MIN_ANSWERS, MIN_SURVEY_ANSWERS
from school.access import (
    get_scoped_or_404,
    permission_required,
    region_scope,
    school_scope,
    taught_classrooms,
    teaches,
)
from school.models import Classroom, Permission, Reach, Region, School

bp = Blueprint("insights", __name__, url_prefix="/insights", template_folder="templates")

PDF_LOCALES = ("kk", "ru")


@bp.context_processor
def _limits() -> dict:
    """The limits below which a figure is not shown, for the pages that explain "—"."""
    return {"MEDIAN_MIN_ANSWERS": MEDIAN_MIN_ANSWERS, "MIN_SURVEY_ANSWERS": MIN_SURVEY_ANSWERS}


def _filter_messages(problems: list[str]) -> None:
    messages = {
        "date": _("Dates are written as YYYY-MM-DD; the default period is shown."),
        "range": _(
            "Dates must lie between %(first)s and %(last)s; the default period is shown.",
            first=FIRST_DAY.isoformat(),
            last=LAST_DAY.isoformat(),
        ),
        "order": _("The end of the period is before its start; the default period is shown."),
        "long": _("The period may be at most five years; it was shortened."),
        "form": _("Unknown form of violence; all forms are shown."),
    }
    for problem in problems:
        flash(messages[problem], "warning")


def _regions():
    """The regions a user looking at the whole country may pick in the filters."""
    if current_user.sees_whole_country:
        return collated(
            db.session.scalars(select(Region).where(region_scope(current_user, Region.id))),
            key=lambda r: r.name,
        )
    return []


# --- dashboard ---------------------------------------------------------------------------------


@bp.get("/")
@permission_required(Permission.read_dashboards)
def dashboard():
    filters, problems = from_args(request.args, current_user)
    _filter_messages(problems)
    regions = _regions()
    schools = []
    if filters.level != Level.school and filters.region_id is not None:
        # Only what the list shows (id and name): a region has ~700 schools.
        schools = collated(
            db.session.execute(
                select(School.id, School.name).where(
                    School.region_id == filters.region_id, school_scope(current_user, School.id)
                )
            ),
            key=lambda s: s.name,
        )
    # The figures name the same regions and schools as the filter lists.
    remember_unit_names(Level.country, regions)
    remember_unit_names(Level.region, schools)
    board = boards.build(current_user, filters, all_units=request.args.get("units") == "all")
    # A region's page lists the schools that need attention first; the rest on demand
    # (?units=all); the CSV and the PDF list them all.
    unit_rows, all_units = board.reports.by_unit, True
    if filters.level == Level.region and request.args.get("units") != "all":
        unit_rows = boards.attention_first(board)
        all_units = len(unit_rows) == len(board.reports.by_unit)
    return render_template(
        "insights/dashboard.html",
        board=board,
        unit_rows=unit_rows,
        all_units=all_units,
        charts=dashboard_charts(board),
        survey_svg=survey_chart(board.survey, "survey-chart"),
        regions=regions,
        schools=schools,
        forms=list(ViolenceForm),
        pdf_locales=PDF_LOCALES,
        query=filters.query_args(),
        **_table_helpers(filters),
    )


UNIT = "UNIT_ID"  # stands for the unit's id in the drill-down links


def _table_helpers(filters) -> dict:
    """What the figure tables need besides the numbers: formats, targets, drill-down links."""
    args = {k: v for k, v in filters.query_args().items() if k not in ("region", "school")}

    # One URL built, the unit's id put in per row (a region has hundreds of schools).
    if filters.level == Level.country:
        pattern = url_for("insights.dashboard", region=UNIT, **args)
    else:
        pattern = url_for("insights.dashboard", region=filters.region_id, school=UNIT, **args)

    def unit_link(row) -> str:
        return pattern.replace(UNIT, str(int(row.key)))

    return {
        "share_text": boards.share_text,
        "change_text": boards.change_text,
        "targets": {p.value: span.total_seconds() / 3600 for p, span in response_targets().items()},
        "unit_link": unit_link,
    }


@bp.get("/export.csv")
@permission_required(Permission.read_dashboards)
def export_csv():
    filters, _problems = from_args(request.args, current_user)
    board = boards.build(current_user, filters, export=True)
    name = f"qamqor-{filters.start.isoformat()}-{filters.end.isoformat()}.csv"
    return Response(
        boards.to_csv(board),
        mimetype="text/csv",
        headers={
            "Content-Disposition": content_disposition(name),
            "Cache-Control": "no-store",
        },
    )


@bp.get("/report.pdf")
@permission_required(Permission.read_dashboards)
def report_pdf():
    locale = request.args.get("lang", "kk")
    if locale not in PDF_LOCALES:
        abort(404)
    filters, _problems = from_args(request.args, current_user)
    with force_locale(locale):
        board = boards.build(current_user, filters, export=True)
        charts = dashboard_charts(board)
        survey_svg = survey_chart(board.survey, "survey-chart")
    data = render_pdf(
        "insights/pdf/report.html",
        locale=locale,
        board=board,
        charts=charts,
        survey_svg=survey_svg,
        generated_at=utcnow(),
        **_table_helpers(filters),
    )
    return pdf_response(data, f"qamqor-report-{filters.start}-{filters.end}-{locale}.pdf")


# --- survey waves ------------------------------------------------------------------------------


def _classes_for_waves():
    """Classes the user may open a wave for (grade 3 and up)."""
    if not current_user.can(Permission.survey_every_class):
        stmt = taught_classrooms(current_user)
    else:
        stmt = select(Classroom).where(school_scope(current_user, Classroom.school_id))
    return db.session.scalars(
        stmt.where(Classroom.grade >= MIN_SURVEY_GRADE).order_by(Classroom.grade, Classroom.letter)
    ).all()


def _get_wave_or_404(wave_id: int) -> SurveyWave:
    """A wave of the user's school; a teacher sees only the waves of the classes they teach."""
    wave = get_scoped_or_404(SurveyWave, wave_id, current_user)
    if not current_user.can(Permission.survey_every_class) and (
        db.session.scalar(
            select(Classroom.id).where(Classroom.id == wave.classroom_id, teaches(current_user))
        )
        is None
    ):
        abort(404)
    return wave


@bp.get("/surveys")
@permission_required(Permission.follow_survey_waves)
def waves():
    stmt = select(SurveyWave).where(school_scope(current_user, SurveyWave.school_id))
    if not current_user.can(Permission.survey_every_class):
        stmt = stmt.where(
            SurveyWave.classroom_id.in_(select(Classroom.id).where(teaches(current_user)))
        )
    rows = db.session.scalars(stmt.order_by(SurveyWave.opened_at.desc()).limit(200)).all()
    return render_template(
        "insights/waves.html",
        waves=rows,
        classes=_classes_for_waves() if current_user.can(Permission.open_survey_waves) else [],
        now=utcnow(),
    )


@bp.route("/classes/<int:class_id>/survey", methods=["GET", "POST"])
@permission_required(Permission.open_survey_waves)
def open_wave(class_id: int):
    classroom = get_scoped_or_404(Classroom, class_id, current_user)
    if not surveys.may_open_wave(current_user, classroom):
        abort(403)
    form = OpenWaveForm()
    if form.validate_on_submit():
        try:
            wave = surveys.open_wave(
                classroom,
                WaveKind(form.kind.data),
                form.students.data,
                current_user,
                form.days_open.data,
            )
        except surveys.SurveyError as error:
            flash(str(error.message), "error")
        else:
            db.session.commit()
            flash(_("The wave is open. Print the slips and hand one to each student."), "success")
            return redirect(url_for("insights.wave", wave_id=wave.id))
    return render_template("insights/wave_form.html", form=form, classroom=classroom)


@bp.get("/surveys/<int:wave_id>")
@permission_required(Permission.follow_survey_waves)
def wave(wave_id: int):
    wave = _get_wave_or_404(wave_id)
    return render_template(
        "insights/wave.html",
        wave=wave,
        answered=wave.answered,
        unspent=surveys.unspent_count(wave),
        close_form=CloseWaveForm(),
        may_close=current_user.can(Permission.open_survey_waves),
        now=utcnow(),
    )


@bp.get("/surveys/<int:wave_id>/slips.pdf")
@permission_required(Permission.open_survey_waves)
def slips(wave_id: int):
    wave = _get_wave_or_404(wave_id)
    if not wave.is_open():
        abort(404)
    codes = [surveys.format_code(code) for code in surveys.unspent_codes(wave)]
    locale = wave.classroom.language if wave.classroom.language in ("kk", "ru", "en") else "kk"
    address = surveys.public_address()
    title = questionnaire().title(wave.version.value, locale)
    data = render_pdf(
        "insights/pdf/slips.html",
        locale=locale,
        wave=wave,
        codes=codes,
        address=address,
        title=title,
    )
    return pdf_response(data, f"survey-{wave.classroom.label}-{wave.kind.value}.pdf")


@bp.post("/surveys/<int:wave_id>/close")
@permission_required(Permission.open_survey_waves)
def close_wave(wave_id: int):
    wave = _get_wave_or_404(wave_id)
    if CloseWaveForm().validate_on_submit():
        surveys.close_wave(wave)
        db.session.commit()
        flash(_("The wave is closed: the remaining codes no longer work."), "success")
    return redirect(url_for("insights.wave", wave_id=wave.id))


# --- survey results ----------------------------------------------------------------------------


@bp.get("/surveys/results")
@permission_required(Permission.read_survey_results)
def results():
    """Results of a class (school staff), a school, a region or the country (in scope)."""
    class_id = request.args.get("class", type=int)
    school_id = request.args.get("school", type=int)
    region_id = request.args.get("region", type=int)
    title, unit_level, classroom, school, region = "", None, None, None, None
    if class_id is not None:
        if not current_user.role.is_school_role:
            abort(403)
        if not current_user.can(Permission.survey_every_class):
            classroom = db.session.scalar(
                taught_classrooms(current_user).where(Classroom.id == class_id)
            )
            if classroom is None:
                abort(404)
        else:
            classroom = get_scoped_or_404(Classroom, class_id, current_user)
        conditions = wave_conditions(current_user, classroom_id=classroom.id)
        title = _("Class %(label)s", label=classroom.label)
    elif not current_user.can(Permission.survey_every_class):
        abort(403)
    elif school_id is not None:
        school = get_scoped_or_404(School, school_id, current_user, School.id)
        conditions = wave_conditions(current_user, school_id=school.id)
        title = school.name
    elif current_user.role.is_school_role:
        school = current_user.school
        conditions = wave_conditions(current_user, school_id=school.id)
        title = school.name
    else:
        if region_id is None and current_user.role.reach is Reach.region and current_user.region_id:
            region_id = current_user.region_id
        if region_id is not None:
            region = db.session.scalar(
                select(Region).where(Region.id == region_id, region_scope(current_user, Region.id))
            )
            if region is None:
                abort(404)
            conditions = wave_conditions(current_user, region_id=region.id)
            title, unit_level = region.name, Level.region
        else:
            conditions = wave_conditions(current_user)
            title, unit_level = _("Kazakhstan"), Level.country
    result = survey_results(conditions)
    units = []
    if unit_level is not None:
        column = School.region_id if unit_level == Level.country else SurveyWave.school_id
        units = unit_prevalence(conditions, column, unit_level)
    return render_template(
        "insights/results.html",
        share_text=boards.share_text,
        change_text=boards.change_text,
        title=title,
        result=result,
        chart=survey_chart(result, "survey-results"),
        units=units,
        unit_level=unit_level,
        classroom=classroom,
        kinds=list(WaveKind),
    )
