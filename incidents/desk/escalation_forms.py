"""The school administrator's form for the escalation chain and the working hours. The people
offered are the school's active psychologists and administrators (filled by the page)."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from core.forms import MultipleChoiceField
from incidents.desk.escalation_models import DEFAULT_WINDOW_MINUTES, MAX_WINDOW_MINUTES

MAX_CONTACTS = 4
NOBODY = 0
TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
WEEKDAYS = [
    SelectChoice("1", _l("Monday")),
    SelectChoice("2", _l("Tuesday")),
    SelectChoice("3", _l("Wednesday")),
    SelectChoice("4", _l("Thursday")),
    SelectChoice("5", _l("Friday")),
    SelectChoice("6", _l("Saturday")),
    SelectChoice("7", _l("Sunday")),
]


def _number(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1  # not offered: refused in our words by ``PersonField.pre_validate``


class PersonField(SelectField):
    def pre_validate(self, form) -> None:
        try:
            super().pre_validate(form)
        except ValidationError as error:
            raise ValidationError(_l("Please choose one.")) from error


class DaysField(MultipleChoiceField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def minute_of(text: str) -> int | None:
    """ "08:30" → 510; None when it is not a time of day."""
    found = TIME.match((text or "").strip())
    return int(found.group(1)) * 60 + int(found.group(2)) if found else None


def time_of_day(form, field) -> None:
    if minute_of(field.data) is None:
        raise ValidationError(_l("Please write a time of day such as 08:00."))


class ContactsForm(FlaskForm):
    weekdays = DaysField(_l("Working days"), choices=WEEKDAYS)
    opens = StringField(_l("Opens at"), validators=[time_of_day], default="08:00")
    closes = StringField(_l("Closes at"), validators=[time_of_day], default="18:00")
    submit = SubmitField(_l("Save"))

    def rows(self):
        """[(position, person, window, night)] fields, in order."""
        return [
            (n, self[f"person_{n}"], self[f"window_{n}"], self[f"night_{n}"])
            for n in range(1, MAX_CONTACTS + 1)
        ]

    def chosen_rows(self):
        return [(n, p.data, w.data, h.data) for n, p, w, h in self.rows() if p.data != NOBODY]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        seen = set()
        for _n, person, _w, _h in self.rows():
            if person.data != NOBODY and person.data in seen:
                person.errors.append(_l("This person is already on the list."))
                valid = False
            seen.add(person.data)
        opens, closes = minute_of(self.opens.data), minute_of(self.closes.data)
        if opens is not None and closes is not None and opens >= closes:
            self.closes.errors.append(_l("The school must close after it opens."))
            valid = False
        return valid


for _n in range(1, MAX_CONTACTS + 1):
    setattr(
        ContactsForm,
        f"person_{_n}",
        PersonField(_l("Contact %(n)d", n=_n), coerce=_number, choices=[]),
    )
    setattr(
        ContactsForm,
        f"window_{_n}",
        IntegerField(
            _l("Minutes to acknowledge (contact %(n)d)", n=_n),
            default=DEFAULT_WINDOW_MINUTES,
            validators=[
                InputRequired(_l("Please fill in this field.")),
                NumberRange(
                    1,
                    MAX_WINDOW_MINUTES,
                    _l("Between %(min)d and %(max)d, please.", min=1, max=MAX_WINDOW_MINUTES),
                ),
            ],
        ),
    )
    setattr(
        ContactsForm,
        f"night_{_n}",
        BooleanField(_l("May be told at night and at weekends (contact %(n)d)", n=_n)),
    )
