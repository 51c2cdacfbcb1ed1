"""The student's forms, with the words a child reads: labels, choices and what each one means."""

from __future__ import annotations

import enum
import secrets

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    MultipleFileField,
    RadioField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, StopValidation, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from core.forms import max_length, no_control_characters
from incidents.intake.models import (
    Frequency,
    Perpetrator,
    Place,
    Victim,
    ViolenceForm,
    WhenHappened,
)
from school.models import GradeBand

DESCRIPTION_MAX = 3000
MESSAGE_MAX = 3000
GRADE_BANDS = tuple(band.value for band in GradeBand)
# A hint to the phone's file picker (the server checks the content whatever is sent).
FILE_INPUT = {"accept": "image/*,application/pdf"}

# What each form of violence means, with examples a 10-year-old recognises.
FORM_EXPLANATIONS = {
    ViolenceForm.physical: _l(
        "Someone hits, kicks, pushes, pinches, trips you up, pulls your hair or throws things at "
        "you."
    ),
    ViolenceForm.psychological: _l(
        "Someone threatens you, frightens you, humiliates you in front of others or makes you do "
        "things you do not want to do."
    ),
    ViolenceForm.verbal: _l(
        "Someone insults you, calls you names, swears at you or makes fun of how you look, how "
        "you speak or where your family comes from."
    ),
    ViolenceForm.bullying: _l(
        "The same person or group hurts you again and again, on purpose, and you cannot make it "
        "stop by yourself."
    ),
    ViolenceForm.cyberbullying: _l(
        "Nasty messages, threats, or embarrassing photos and videos in chats, social networks or "
        "games; a fake page in your name; being thrown out of a group chat on purpose."
    ),
    ViolenceForm.sexual: _l(
        "Someone touches the private parts of your body, makes you undress or touch them, shows "
        "you intimate pictures or asks you for such photos. Nobody may do this: not a stranger, "
        "not someone you know."
    ),
    ViolenceForm.exclusion: _l(
        "You are left out on purpose, others are told not to talk to you, or you are treated "
        "badly because of your language, nationality, religion, health, looks or family."
    ),
    ViolenceForm.belongings: _l(
        "Someone takes, hides, breaks or spoils your things, or takes your money or food."
    ),
    ViolenceForm.adult_at_school: _l(
        "A teacher or another adult at school hits you, shouts at you, insults you, or punishes "
        "you in a way that shames you, for example in front of the whole class."
    ),
    ViolenceForm.home: _l(
        "At home you are hit, threatened or insulted, or nobody looks after you: you go hungry, "
        "you are left alone for a long time, nobody takes you to a doctor when you are ill."
    ),
    ViolenceForm.other: _l("Something else hurt or frightened you. Tell us in your own words."),
}

FORM_VALUES = frozenset(form.value for form in ViolenceForm)

# The staff titles of these two enums speak about the student; these speak to the student.
VICTIM_CHOICES = [
    SelectChoice(Victim.me.value, _l("Me")),
    SelectChoice(Victim.other_student.value, _l("Another student")),
    SelectChoice(Victim.unsaid.value, _l("I'd rather not say")),
]
PERPETRATOR_CHOICES = [
    SelectChoice(Perpetrator.students.value, _l("A student or several students")),
    SelectChoice(
        Perpetrator.school_staff.value, _l("A teacher or someone else who works at the school")
    ),
    SelectChoice(Perpetrator.family.value, _l("Someone in my family")),
    SelectChoice(Perpetrator.other_adult.value, _l("Another adult")),
    SelectChoice(Perpetrator.unknown.value, _l("I don't know, or I'd rather not say")),
]
GRADE_CHOICES = [
    SelectChoice(GradeBand.primary.value, _l("Grades 1 to 4")),
    SelectChoice(GradeBand.middle.value, _l("Grades 5 to 9")),
    SelectChoice(GradeBand.senior.value, _l("Grades 10 and 11")),
]


def enum_choices(enum_cls: type[enum.Enum]) -> list[SelectChoice]:
    return [SelectChoice(member.value, member.TITLES[member]) for member in enum_cls]  # type: ignore[attr-defined]


def values(choices: list[SelectChoice]) -> list[str]:
    return [choice.value for choice in choices]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def answer(values: list[str] | tuple[str, ...], *, unless_danger: bool = True, optional=False):
    """One of ``values`` must be chosen: unless the student is in danger now, or it is optional.

    Replaces WTForms' own choice check, so that the message is ours and a skipped question in
    danger is not an error.
    """

    def check(form, field) -> None:
        if field.data in (None, "", "None"):
            field.data = None
            if optional or (unless_danger and form.danger_now.data):
                field.errors[:] = []
                raise StopValidation()
            raise StopValidation(_l("Please choose an answer."))
        if field.data not in values:
            raise ValidationError(_l("Please choose an answer."))

    return check


def forms_named(form, field) -> None:
    if not field.data and not form.danger_now.data:
        raise ValidationError(_l("Please tick at least one. If none fits, tick “Something else”."))
    if any(value not in FORM_VALUES for value in field.data or []):
        raise ValidationError(_l("Please choose an answer."))


def at_most(limit: int) -> Length:
    """The length limit of a child's text, said to the child («сен»/«ты»)."""
    return Length(max=limit, message=_l("Write at most %(max)d characters.", max=limit))


def new_token() -> str:
    return secrets.token_hex(16)


class ReportForm(FlaskForm):
    danger_now = BooleanField(_l("This is urgent: I may be in danger today"))
    forms = MultiCheckboxField(
        _l("What happened?"),
        choices=enum_choices(ViolenceForm),
        validate_choice=False,
        validators=[forms_named],
    )
    victim = RadioField(
        _l("Who was hurt?"),
        choices=VICTIM_CHOICES,
        validate_choice=False,
        validators=[answer(values(VICTIM_CHOICES))],
    )
    perpetrator = RadioField(
        _l("Who did it?"),
        # Who reads the report, said before it is sent (``incidents.desk.routing``).
        description=_l(
            "If it was a teacher or someone else who works at the school, specialists of the"
            " regional child protection service will read your report, not your school."
            " Otherwise, a psychologist of your school will read it."
        ),
        choices=PERPETRATOR_CHOICES,
        validate_choice=False,
        validators=[answer(values(PERPETRATOR_CHOICES))],
    )
    place = RadioField(
        _l("Where did it happen?"),
        choices=enum_choices(Place),
        validate_choice=False,
        validators=[answer([p.value for p in Place])],
    )
    frequency = RadioField(
        _l("How often does it happen?"),
        choices=enum_choices(Frequency),
        validate_choice=False,
        validators=[answer([f.value for f in Frequency])],
    )
    happened = RadioField(
        _l("When did it happen last?"),
        choices=enum_choices(WhenHappened),
        validate_choice=False,
        validators=[answer([w.value for w in WhenHappened])],
    )
    grade_band = RadioField(
        _l("Which grade are you in? (You can skip this.)"),
        choices=GRADE_CHOICES,
        validate_choice=False,
        validators=[answer(GRADE_BANDS, optional=True)],
    )
    description = TextAreaField(
        _l("Tell us in your own words"),
        validators=[at_most(DESCRIPTION_MAX), no_control_characters],
        render_kw={"maxlength": DESCRIPTION_MAX, "rows": 7},
    )
    files = MultipleFileField(
        _l("Photos, screenshots or PDF files (if you have them)"), render_kw=FILE_INPUT
    )
    token = HiddenField()
    submit = SubmitField(_l("Send"))


class DangerForm(FlaskForm):
    """The short form of the danger page: everything may be left empty."""

    description = TextAreaField(
        _l("If you can, tell us where you are and what is happening"),
        validators=[at_most(DESCRIPTION_MAX), no_control_characters],
        render_kw={"maxlength": DESCRIPTION_MAX, "rows": 4},
    )
    token = HiddenField()
    submit = SubmitField(_l("Tell the school psychologist"))


class CheckForm(FlaskForm):
    code = StringField(
        _l("Your code"),
        validators=[max_length(40)],
        render_kw={
            "inputmode": "numeric",
            "autocomplete": "off",
            "autocapitalize": "off",
            "spellcheck": "false",
            "maxlength": 40,
        },
    )
    submit = SubmitField(_l("Open"))


class MessageForm(FlaskForm):
    body = TextAreaField(
        _l("Your answer"),
        validators=[at_most(MESSAGE_MAX), no_control_characters],
        render_kw={"maxlength": MESSAGE_MAX, "rows": 5},
    )
    files = MultipleFileField(_l("Add photos, screenshots or PDF files"), render_kw=FILE_INPUT)
    submit = SubmitField(_l("Send"))
