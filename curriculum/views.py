"""Teachers' pages: the lesson library, a lesson on the projector, its handout, planning and
logging lessons in their classes, class progress and the school's coverage."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_percent
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core.clock import local_today
from core.i18n import LOCALES, current_locale
from core.pdf import kept_pdf, pdf_response, render_pdf
from curriculum import services
from curriculum.content import BANDS
from curriculum.forms import ConfirmForm, DeliveryForm, PlanForm, options
from curriculum.models import BAND_TITLES, Delivery, LessonPlan, Theme
from extensions import db
from school.access import (
    get_scoped_or_404,
    get_taught_classroom_or_404,
    permission_required,
    school_scope,
    taught_classrooms,
)
from school.models import Classroom, Permission, School, grade_band

bp = Blueprint("curriculum", __name__, template_folder="templates")


@bp.context_processor
def helpers():
    return {
        "percent": lambda value: format_percent(value) if value is not None else "—",
        "BAND_TITLES": BAND_TITLES,
    }


def content_language() -> str:
    """The language lesson texts are shown in: ?lang=, else the interface language."""
    lang = request.args.get("lang")
    return lang if lang in LOCALES else current_locale()


# --- the library ------------------------------------------------------------------------------


@bp.get("/lessons")
@permission_required(Permission.read_lessons)
def library():
    lang = content_language()
    band = request.args.get("band")
    grade = request.args.get("grade", type=int)
    if grade and 1 <= grade <= 11:
        band = grade_band(grade)
    band = band if band in BANDS else None
    theme = request.args.get("theme")
    theme = Theme(theme) if theme in Theme.__members__ else None
    query = (request.args.get("q") or "").strip()[:100]
    rows = db.session.execute(services.library(lang, band, theme, query)).all()
    return render_template(
        "curriculum/library.html",
        rows=rows,
        lang=lang,
        band=band,
        theme=theme,
        query=query,
        bands=BANDS,
        themes=list(Theme),
    )


def lesson_or_404(slug: str):
    lesson = services.lesson_by_slug(slug)
    if lesson is None:
        abort(404)
    return lesson


@bp.get("/lessons/<slug>")
@permission_required(Permission.read_lessons)
def lesson(slug: str):
    lesson = lesson_or_404(slug)
    lang = content_language()
    classes = db.session.scalars(
        taught_classrooms(current_user).order_by(Classroom.grade, Classroom.letter)
    ).all()
    return render_template(
        "curriculum/lesson.html",
        lesson=lesson,
        text=lesson.text(lang),
        lang=lang,
        projector=request.args.get("view") == "projector",
        classes=[c for c in classes if c.grade_band == lesson.band],
    )


@bp.get("/lessons/<slug>/handout.pdf")
@permission_required(Permission.read_lessons)
def handout(slug: str):
    lesson = lesson_or_404(slug)
    lang = content_language()
    data = render_pdf(
        "curriculum/pdf/handout.html", locale=lang, lesson=lesson, text=lesson.text(lang)
    )
    return pdf_response(data, f"{lesson.slug}-{lang}.pdf")


@bp.get("/lessons/handbook.pdf")
@permission_required(Permission.read_lessons)
def handbook():
    """Every lesson of a band (or of all bands), each followed by its handout: one PDF to print."""
    lang = content_language()
    band = request.args.get("band")
    band = band if band in BANDS else None
    rows = db.session.execute(services.library(lang, band)).all()
    # The same for every teacher and 3 to 14 seconds of layout (bench/documents.py): made once,
    # kept by the digests of its lessons (a lesson loaded anew changes its digest).
    data = kept_pdf(
        f"handbook-{band or 'all'}-{lang}",
        "curriculum/pdf/handbook.html",
        locale=lang,
        inputs=[band, [(lesson.slug, lesson.digest) for lesson, _text in rows]],
        rows=rows,
        band=band,
    )
    return pdf_response(data, f"qamqor-handbook-{band or 'all'}-{lang}.pdf")


# --- classes: planning, delivery, progress ----------------------------------------------------


@bp.get("/lessons/classes")
@permission_required(Permission.teach_lessons)
def my_classes():
    progress = services.class_progress(
        taught_classrooms(current_user).whereclause, current_locale()
    )
    return render_template("curriculum/my_classes.html", progress=progress)


def viewable_classroom_or_404(class_id: int) -> Classroom:
    """Teachers see the classes they teach; the school's administrators see every class."""
    if current_user.can(Permission.read_programme_coverage):
        return get_scoped_or_404(Classroom, class_id, current_user)
    return get_taught_classroom_or_404(class_id, current_user)


def teaches_class(classroom: Classroom) -> bool:
    stmt = taught_classrooms(current_user).where(Classroom.id == classroom.id)
    return db.session.scalar(stmt) is not None


@bp.get("/lessons/classes/<int:class_id>")
@permission_required(Permission.read_lessons)
def class_page(class_id: int):
    classroom = viewable_classroom_or_404(class_id)
    return _render_class(classroom, PlanForm())


def _render_class(classroom: Classroom, plan_form: PlanForm, status: int = 200):
    lang = classroom_language(classroom)
    lessons = services.class_lessons(classroom, lang)
    plan_form.lesson.choices = options((item.lesson.slug, item.title) for item in lessons)
    plan_ids = dict(
        db.session.execute(
            select(LessonPlan.lesson_id, LessonPlan.id).where(
                LessonPlan.classroom_id == classroom.id
            )
        ).all()
    )
    return (
        render_template(
            "curriculum/class.html",
            classroom=classroom,
            lang=lang,
            lessons=lessons,
            progress=services.class_progress(Classroom.id == classroom.id, lang)[0],
            deliveries=services.class_deliveries(classroom, lang),
            plan_form=plan_form,
            plan_ids=plan_ids,
            can_log=teaches_class(classroom),
            confirm=ConfirmForm(),
        ),
        status,
    )


def classroom_language(classroom: Classroom) -> str:
    return classroom.language if classroom.language in LOCALES else current_locale()


@bp.post("/lessons/classes/<int:class_id>/plan")
@permission_required(Permission.teach_lessons)
def plan(class_id: int):
    classroom = get_taught_classroom_or_404(class_id, current_user)
    form = PlanForm()
    lang = classroom_language(classroom)
    form.lesson.choices = options(
        (item.lesson.slug, item.title) for item in services.class_lessons(classroom, lang)
    )
    if not form.validate_on_submit():
        return _render_class(classroom, form, 400)
    lesson = services.lesson_by_slug(form.lesson.data)
    services.plan_lesson(classroom, lesson, form.planned_for.data, current_user)
    db.session.commit()
    flash(_("The lesson is in the plan."), "success")
    return redirect(url_for("curriculum.class_page", class_id=classroom.id))


@bp.post("/lessons/classes/<int:class_id>/plans/<int:plan_id>/delete")
@permission_required(Permission.teach_lessons)
def unplan(class_id: int, plan_id: int):
    classroom = get_taught_classroom_or_404(class_id, current_user)
    plan = db.session.get(LessonPlan, plan_id)
    if plan is None or plan.classroom_id != classroom.id:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.unplan_lesson(plan)
    db.session.commit()
    flash(_("The lesson was taken out of the plan."), "info")
    return redirect(url_for("curriculum.class_page", class_id=classroom.id))


@bp.route("/lessons/classes/<int:class_id>/deliver/<slug>", methods=["GET", "POST"])
@permission_required(Permission.teach_lessons)
def deliver(class_id: int, slug: str):
    classroom = get_taught_classroom_or_404(class_id, current_user)
    lesson = lesson_or_404(slug)
    if lesson.band != classroom.grade_band:
        abort(404)
    form = DeliveryForm(today=local_today())
    text = lesson.text(classroom_language(classroom))
    form.steps_done.choices = options(
        (index, _("%(title)s (%(minutes)d min)", title=step["title"], minutes=step["minutes"]))
        for index, step in enumerate(text.body["steps"])
    )
    if request.method == "GET":
        form.language.data = classroom.language
        form.delivered_on.data = local_today()
        form.minutes_used.data = lesson.duration
        form.steps_done.data = list(range(lesson.step_count))
    if form.validate_on_submit():
        services.log_delivery(
            classroom=classroom,
            lesson=lesson,
            teacher=current_user,
            delivered_on=form.delivered_on.data,
            language=form.language.data,
            minutes_used=form.minutes_used.data,
            students_present=form.students_present.data,
            steps_done=form.steps_done.data or [],
            reflection=form.reflection.data or "",
        )
        db.session.commit()
        flash(_("The lesson has been logged. Thank you!"), "success")
        return redirect(url_for("curriculum.class_page", class_id=classroom.id))
    return render_template(
        "curriculum/deliver.html", form=form, classroom=classroom, lesson=lesson, text=text
    )


@bp.post("/lessons/classes/<int:class_id>/deliveries/<int:delivery_id>/delete")
@permission_required(Permission.teach_lessons)
def delete_delivery(class_id: int, delivery_id: int):
    classroom = get_taught_classroom_or_404(class_id, current_user)
    delivery = db.session.get(Delivery, delivery_id)
    if delivery is None or delivery.classroom_id != classroom.id:
        abort(404)
    if delivery.teacher_id != current_user.id:
        abort(403)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.delete_delivery(delivery)
    db.session.commit()
    flash(_("The record of the lesson was deleted."), "info")
    return redirect(url_for("curriculum.class_page", class_id=classroom.id))


@bp.get("/lessons/coverage")
@permission_required(Permission.read_programme_coverage)
def coverage():
    if current_user.can(Permission.manage_platform):
        school = get_scoped_or_404(
            School, request.args.get("school", type=int) or 0, current_user, School.id
        )
    else:
        school = current_user.school
    where = (Classroom.school_id == school.id) & school_scope(current_user, Classroom.school_id)
    return render_template(
        "curriculum/coverage.html",
        school=school,
        summary=services.coverage(where),
        progress=services.class_progress(where, current_locale()),
    )
