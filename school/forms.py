"""Forms of the directory: log-in, passwords, staff accounts, schools and classes."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import EqualTo, NumberRange, Optional, Regexp

from core.forms import (
    MultipleChoiceField,
    chosen,
    email_address,
    max_length,
    no_control_characters,
    required,
)
from core.i18n import LANGUAGE_TITLES, LOCALES

MIN_PASSWORD = 10


class LoginForm(FlaskForm):
    email = EmailField(
        _l("E-mail"), validators=[required(), max_length(254), no_control_characters]
    )
    password = PasswordField(_l("Password"), validators=[required(), max_length(200)])
    submit = SubmitField(_l("Log in"))


class CodeForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[required(), max_length(20)],
        description=_l("The six digits from your authenticator app, or a recovery code."),
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
    submit = SubmitField(_l("Continue"))


class TwoFactorSetupForm(FlaskForm):
    """Linking an authenticator; one that replaces another asks for the current code first."""

    current = StringField(
        _l("Code from your current authenticator"),
        validators=[Optional(), max_length(20)],
        description=_l("Or one of your recovery codes."),
        render_kw={"autocomplete": "one-time-code"},
    )
    code = StringField(
        _l("Code from the app you are linking now"),
        validators=[required(), max_length(20)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
    submit = SubmitField(_l("Continue"))


class CurrentFactorForm(FlaskForm):
    """New recovery codes, or the factor turned off: only with a code of the current one."""

    current = StringField(
        _l("Code from your current authenticator"),
        validators=[Optional(), max_length(20)],
        description=_l("Or one of your recovery codes."),
        render_kw={"autocomplete": "one-time-code"},
    )


class SimpleForm(FlaskForm):
    """A form with only its CSRF token, for buttons that act."""


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[required(), max_length(200)])
    new = PasswordField(
        _l("New password"),
        validators=[required(), max_length(200)],
        description=_l(
            "At least %(min)d characters; not your e-mail, not a common password.",
            min=MIN_PASSWORD,
        ),
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[required(), EqualTo("new", message=_l("The two passwords do not match."))],
    )
    submit = SubmitField(_l("Change password"))


def language_choices():
    return [(code, LANGUAGE_TITLES[code]) for code in LOCALES]


class StaffForm(FlaskForm):
    full_name = StringField(
        _l("Full name"), validators=[required(), max_length(200), no_control_characters]
    )
    email = EmailField(_l("E-mail"), validators=[required(), email_address(), max_length(254)])
    role = SelectField(_l("Role"), validators=[chosen()])
    school_id = SelectField(_l("School"), coerce=int, validators=[Optional()])
    region_id = SelectField(
        _l("Region"),
        coerce=int,
        validators=[Optional()],
        description=_l("For analysts and duty desk officers: leave empty for the whole country."),
    )
    body_id = SelectField(_l("Authorized body"), coerce=int, validators=[Optional()])
    locale = SelectField(_l("Language"), choices=language_choices, validators=[chosen()])
    active = BooleanField(_l("Account is active"), default=True)
    submit = SubmitField(_l("Save"))


class ResetPasswordForm(FlaskForm):
    submit = SubmitField(_l("Make a new temporary password"))


class ResetTwoFactorForm(FlaskForm):
    submit = SubmitField(_l("Reset two-factor log-in"))


class SchoolForm(FlaskForm):
    name = StringField(
        _l("School name in Kazakh"),
        validators=[required(), max_length(200), no_control_characters],
    )
    name_ru = StringField(
        _l("School name in Russian"),
        description=_l(
            "As on the school's sign. Children find the school by either name and read the one "
            "of their language. Leave it empty if the school has no Russian name."
        ),
        validators=[max_length(200), no_control_characters],
    )
    region_id = SelectField(_l("Region"), coerce=int, validators=[chosen()])
    languages = MultipleChoiceField(
        _l("Languages of instruction"),
        choices=language_choices,
        validators=[chosen()],
    )
    address = StringField(_l("Address"), validators=[max_length(300), no_control_characters])
    phone = StringField(_l("Phone"), validators=[max_length(40), no_control_characters])
    submit = SubmitField(_l("Save"))


class ClassroomForm(FlaskForm):
    grade = IntegerField(
        _l("Grade"),
        validators=[
            required(),
            NumberRange(min=1, max=11, message=_l("The grade must be from 1 to 11.")),
        ],
    )
    letter = StringField(
        _l("Letter"),
        validators=[
            required(),
            max_length(4),
            Regexp(r"^[^\W\d_]{1,4}$", message=_l("Use one or two letters, like А or Ә.")),
        ],
    )
    language = SelectField(_l("Language of instruction"), choices=language_choices)
    students = IntegerField(
        _l("Students on the class list"),
        validators=[
            Optional(),
            NumberRange(min=0, max=60, message=_l("The number of students must be from 0 to 60.")),
        ],
    )
    homeroom_teacher_id = SelectField(_l("Homeroom teacher"), coerce=int, validators=[Optional()])
    teacher_ids = MultipleChoiceField(_l("Teachers of this class"), coerce=int)
    submit = SubmitField(_l("Save"))


class RegionForm(FlaskForm):
    name_kk = StringField(
        _l("Name in Kazakh"), validators=[required(), max_length(120), no_control_characters]
    )
    name_ru = StringField(
        _l("Name in Russian"), validators=[required(), max_length(120), no_control_characters]
    )
    name_en = StringField(
        _l("Name in English"), validators=[required(), max_length(120), no_control_characters]
    )
    submit = SubmitField(_l("Save"))


class BodyForm(FlaskForm):
    kind = SelectField(_l("Kind"), validators=[chosen()])
    region_id = SelectField(_l("Region"), coerce=int, validators=[Optional()])
    name_kk = StringField(
        _l("Name in Kazakh"), validators=[required(), max_length(200), no_control_characters]
    )
    name_ru = StringField(
        _l("Name in Russian"), validators=[required(), max_length(200), no_control_characters]
    )
    name_en = StringField(
        _l("Name in English"), validators=[max_length(200), no_control_characters]
    )
    email = EmailField(_l("E-mail"), validators=[Optional(), email_address(), max_length(200)])
    phone = StringField(_l("Phone"), validators=[max_length(40), no_control_characters])
    address = StringField(_l("Address"), validators=[max_length(300), no_control_characters])
    submit = SubmitField(_l("Save"))
