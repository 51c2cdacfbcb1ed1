"""Forms: opening a survey wave, the student's code and answers, the dashboard filters."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, RadioField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange, Optional

from core.forms import chosen, max_length, no_control_characters, required
from insights.models import WAVE_KIND_TITLES, WaveKind
from insights.questionnaire import questionnaire
from insights.surveys import DEFAULT_DAYS_OPEN, MAX_CODES


class OpenWaveForm(FlaskForm):
    kind = RadioField(
        _l("Which wave"),
        # The lazy titles: ``kind.title`` here would be read once, in English, at import.
        choices=[SelectChoice(kind.value, WAVE_KIND_TITLES[kind]) for kind in WaveKind],
        validators=[chosen()],
    )
    students = IntegerField(
        _l("Number of students"),
        validators=[
            required(),
            NumberRange(1, MAX_CODES, _l("From %(min)d to %(max)d, please.")),
        ],
        description=_l(
            "One code for each student in the class. Results appear once 10 students have answered."
        ),
    )
    days_open = IntegerField(
        _l("Days the codes work"),
        default=DEFAULT_DAYS_OPEN,
        validators=[required(), NumberRange(1, 60, _l("From %(min)d to %(max)d, please."))],
    )
    submit = SubmitField(_l("Open the wave and make the codes"))


class CloseWaveForm(FlaskForm):
    submit = SubmitField(_l("Close the wave now"))


class CodeForm(FlaskForm):
    """The student's code. No CSRF token: the code itself is the secret, and the student pages
    set no cookie."""

    class Meta:
        csrf = False

    code = StringField(
        _l("Your code"),
        validators=[required(), max_length(24), no_control_characters],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )
    submit = SubmitField(_l("Start"))


def _choice(value):
    """A posted option as an int; anything else is treated as a skipped question."""
    if value is None or value == "":
        return None
    text = str(value)
    return int(text) if text.isdigit() else None


def answer_form(version: str, locale: str, formdata=None):
    """A form with one question per field, in the version and language asked for."""
    content = questionnaire()

    class AnswerForm(FlaskForm):
        class Meta:
            csrf = False

        code = HiddenField()

    for section in content.sections_in(version):
        for question in section.questions_in(version):
            if question.scale == "check":
                for option in question.options:
                    setattr(
                        AnswerForm,
                        option.key,
                        BooleanField(option.text(version, locale), validators=[Optional()]),
                    )
                continue
            scale = content.scales[question.scale]
            setattr(
                AnswerForm,
                question.key,
                RadioField(
                    question.text(version, locale),
                    choices=[
                        SelectChoice(value, label)
                        for value, label in scale.choices(version, locale)
                    ],
                    coerce=_choice,
                    validate_choice=False,
                    validators=[Optional()],
                ),
            )
    return AnswerForm(formdata=formdata)


def answers_from(form, version: str) -> dict[str, int | None]:
    """The answers as item -> value; a ticked box is 1, an empty one is left out."""
    answers: dict[str, int | None] = {}
    for item in questionnaire().items_in(version):
        field = getattr(form, item)
        if isinstance(field, BooleanField):
            if field.data:
                answers[item] = 1
        else:
            answers[item] = field.data
    return answers
