"""Forms of the curriculum: planning a lesson, logging a delivery, a module's quiz."""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from core.forms import MultipleChoiceField, chosen, max_length, no_control_characters
from core.i18n import LOCALE_NAMES, LOCALES

EARLIEST = dt.date(2020, 1, 1)


def options(pairs) -> list[SelectChoice]:
    """Choices for a select, radio or checkbox field from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


class LocalDateField(DateField):
    """A date field whose "not a date" message comes from our catalogs."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(_l("Please enter a date.")) from error


class LocalIntegerField(IntegerField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(_l("Please enter a whole number.")) from error


class MultiCheckboxField(MultipleChoiceField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def filled() -> InputRequired:
    """Like ``required()`` but 0 counts as an answer (DataRequired refuses it)."""
    return InputRequired(message=_l("Please fill in this field."))


def in_range(low: int, high: int) -> NumberRange:
    return NumberRange(
        min=low, max=high, message=_l("Enter a number from %(min)d to %(max)d.", min=low, max=high)
    )


class PlanForm(FlaskForm):
    lesson = SelectField(_l("Lesson"), validators=[chosen()])
    planned_for = LocalDateField(_l("Planned date"), validators=[filled()])

    def validate_planned_for(self, field) -> None:
        if field.data and field.data < EARLIEST:
            raise ValidationError(_l("Please enter a date."))


class DeliveryForm(FlaskForm):
    delivered_on = LocalDateField(_l("Date of the lesson"), validators=[filled()])
    language = SelectField(
        _l("Language of the lesson"),
        choices=options((code, LOCALE_NAMES[code]) for code in LOCALES),
        validators=[chosen()],
    )
    minutes_used = LocalIntegerField(
        _l("Minutes actually used"), validators=[filled(), in_range(1, 240)]
    )
    students_present = LocalIntegerField(
        _l("Students present"), validators=[filled(), in_range(0, 60)]
    )
    steps_done = MultiCheckboxField(
        _l("Steps that were done"),
        coerce=int,
        validators=[Optional()],
        description=_l("Tick every step you carried out, even if it was shorter than planned."),
    )
    reflection = TextAreaField(
        _l("Short reflection"),
        validators=[Optional(), max_length(2000), no_control_characters],
        description=_l(
            "What worked, what to change next time. Do not write children's names or anything "
            "a child disclosed: report that through the school psychologist."
        ),
    )

    def __init__(self, *args, today: dt.date, **kwargs):
        super().__init__(*args, **kwargs)
        self._today = today

    def validate_delivered_on(self, field) -> None:
        if field.data and field.data > self._today:
            raise ValidationError(_l("A lesson cannot be logged before it has taken place."))
        if field.data and field.data < EARLIEST:
            raise ValidationError(_l("Please enter a date."))


class ConfirmForm(FlaskForm):
    """A button that changes something (delete a delivery, remove a plan): CSRF only."""


def quiz_form(questions) -> type[FlaskForm]:
    """A form class with one radio group per shown question, named by the question's place in
    the file, its choices by the option's place: what is scored never depends on the order."""

    class QuizForm(FlaskForm):
        seed = HiddenField()

    for question in questions:
        setattr(
            QuizForm,
            f"q{question.index}",
            RadioField(
                question.text,
                choices=options((str(index), text) for index, text in question.options),
                validators=[chosen()],
            ),
        )
    return QuizForm
