"""Validators with messages in our own catalogs, shared by every package's forms."""

from __future__ import annotations

import unicodedata

from flask_babel import lazy_gettext as _l
from wtforms import SelectMultipleField, ValidationError
from wtforms.validators import DataRequired, Email, InputRequired, Length


def required():
    return DataRequired(message=_l("Please fill in this field."))


def chosen():
    return InputRequired(message=_l("Please choose one."))


def max_length(limit: int):
    return Length(max=limit, message=_l("At most %(max)d characters, please.", max=limit))


def email_address():
    return Email(message=_l("Please enter a valid e-mail address."), check_deliverability=False)


class MultipleChoiceField(SelectMultipleField):
    """Several choices; a value that was not offered is refused with our own words (WTForms'
    message repeats the value and has no Russian translation)."""

    def pre_validate(self, form) -> None:
        try:
            super().pre_validate(form)
        except ValidationError as error:
            raise ValidationError(_l("Please choose one.")) from error


def no_control_characters(form, field) -> None:
    """Refuse invisible control characters (line breaks and tabs are fine)."""
    value = field.data
    if isinstance(value, str) and any(
        unicodedata.category(char) == "Cc" and char not in "\n\r\t" for char in value
    ):
        raise ValidationError(_l("The text contains characters that cannot be saved."))
