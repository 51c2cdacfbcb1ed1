"""The student's side of the survey, at the short address ``/s``: enter the code, answer, done.

No account, no cookie (no CSRF token: the one-time code is the secret), no JavaScript. Every
response is marked anonymous (no-store, no-referrer). The code travels only in POST bodies,
never in an address, and is spent in the same transaction that stores the answers.
"""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _

from core.anonymity import anonymous_blueprint, client_key
from core.i18n import current_locale
from extensions import csrf, limiter
from insights import surveys
from insights.forms import CodeForm, answer_form, answers_from
from insights.questionnaire import questionnaire

# Anonymous: no-store, no-referrer, no access log line, for every address under /s.
bp = anonymous_blueprint("survey", __name__, url_prefix="/s", template_folder="templates")

T = "insights/student/"
# A whole class may share one school address: generous, but guessing codes stays hopeless.
CODE_LIMIT = "120 per minute"


def _code_does_not_work(form: CodeForm):
    # One message for a mistyped, spent or expired code: nothing tells them apart.
    form.code.errors = [
        _(
            "This code does not work. It may be mistyped, already used, or the survey may have"
            " ended. Check the code on your slip, or ask your teacher."
        )
    ]
    return render_template(T + "code.html", form=form)


@bp.route("", methods=["GET", "POST"])
@csrf.exempt
@limiter.limit(CODE_LIMIT, methods=["POST"], key_func=client_key)
def start():
    form = CodeForm()
    if not form.validate_on_submit():
        return render_template(T + "code.html", form=form)
    wave = surveys.wave_for_code(form.code.data)
    if wave is None:
        return _code_does_not_work(form)
    return _survey_page(wave, surveys.normalize_code(form.code.data))


def _survey_page(wave, code: str, form=None):
    locale = current_locale()
    if form is None:
        form = answer_form(wave.version.value, locale, formdata=None)
        form.code.data = code
    return render_template(
        T + "answer.html",
        form=form,
        version=wave.version.value,
        locale=locale,
        content=questionnaire(),
    )


@bp.post("/answers")
@csrf.exempt
@limiter.limit(CODE_LIMIT, key_func=client_key)
def answer():
    code = request.form.get("code", "")
    wave = surveys.wave_for_code(code)
    if wave is None:
        return _code_does_not_work(CodeForm(formdata=None, code=code))
    form = answer_form(wave.version.value, current_locale(), formdata=request.form)
    if not form.validate():
        return _survey_page(wave, code, form)
    if not surveys.submit_answers(code, answers_from(form, wave.version.value)):
        # Spent in the meantime (the same slip sent twice): the same one message.
        return _code_does_not_work(CodeForm(formdata=None, code=code))
    return redirect(url_for("survey.thanks"))


@bp.get("/thanks")
def thanks():
    return render_template(T + "thanks.html")
