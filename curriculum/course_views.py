"""The staff course (reading, quiz, certificate) and the public check of a certificate."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core.i18n import current_locale
from core.pdf import pdf_response, render_pdf
from core.public_url import external_url
from curriculum import course
from curriculum.forms import quiz_form
from curriculum.models import CourseModule
from curriculum.public_views import public
from curriculum.views import bp
from extensions import db, limiter
from school.access import permission_required
from school.models import Permission


def module_or_404(slug: str) -> CourseModule:
    module = db.session.scalar(
        select(CourseModule).where(CourseModule.slug == slug, CourseModule.retired.is_(False))
    )
    if module is None:
        abort(404)
    return module


@bp.get("/course")
@permission_required(Permission.read_lessons)
def course_home():
    return render_template(
        "curriculum/course.html",
        modules=course.course_status(current_user, current_locale()),
        certificate=course.certificate_of(current_user),
        pass_mark=course.PASS_MARK,
    )


@bp.get("/course/<slug>")
@permission_required(Permission.read_lessons)
def course_module(slug: str):
    module = module_or_404(slug)
    return render_template(
        "curriculum/module.html",
        module=module,
        text=module.text(current_locale()),
        pass_mark=course.PASS_MARK,
    )


@bp.route("/course/<slug>/quiz", methods=["GET", "POST"])
@permission_required(Permission.read_lessons)
def quiz(slug: str):
    module = module_or_404(slug)
    locale = current_locale()
    seed = request.form.get("seed", type=int) if request.method == "POST" else None
    if seed is None:
        seed = course.new_seed()
    shown = course.shown_questions(module, locale, seed)
    form = quiz_form(shown)()
    if request.method == "GET":
        form.seed.data = str(seed)
    if form.validate_on_submit():
        answers = {q.index: int(form[f"q{q.index}"].data) for q in shown}
        had_certificate = course.certificate_of(current_user) is not None
        attempt = course.record_attempt(current_user, module, answers)
        db.session.commit()
        if attempt.passed and not had_certificate and course.certificate_of(current_user):
            flash(_("You have completed the course. Your certificate is ready."), "success")
        text = module.text(locale)
        return render_template(
            "curriculum/quiz_result.html",
            module=module,
            text=text,
            attempt=attempt,
            shown=shown,
            answers=answers,
            wrong=course.wrong_questions(module, answers),
            pass_mark=course.PASS_MARK,
        )
    return render_template(
        "curriculum/quiz.html",
        module=module,
        text=module.text(locale),
        form=form,
        shown=shown,
        pass_mark=course.PASS_MARK,
    )


@bp.get("/course/certificate.pdf")
@permission_required(Permission.read_lessons)
def certificate_pdf():
    certificate = course.certificate_of(current_user)
    if certificate is None:
        abort(404)
    data = render_pdf(
        "curriculum/pdf/certificate.html",
        locale=current_locale(),
        certificate=certificate,
        code=course.format_code(certificate.code),
        verify_url=verify_url(certificate.code),
        modules=course.course_status(current_user, current_locale()),
    )
    return pdf_response(data, "qamqor-certificate.pdf")


def verify_url(code: str) -> str:
    return external_url("public.verify_code", code=course.format_code(code))


@public.get("/verify")
@limiter.limit("30 per minute")
def verify():
    """The public check: a form, or the result when a code was typed into it."""
    typed = (request.args.get("code") or "").strip()[:64]
    if typed:
        return redirect(url_for("public.verify_code", code=typed))
    return render_template("curriculum/verify.html", certificate=None, code="", checked=False)


@public.get("/verify/<code>")
@limiter.limit("30 per minute")
def verify_code(code: str):
    certificate = course.find_certificate(code)
    return render_template(
        "curriculum/verify.html",
        certificate=certificate,
        code=code[:64],
        checked=True,
    ), (200 if certificate else 404)
