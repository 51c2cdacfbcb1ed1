"""Forms of the response workflow (staff and partners). Choices that depend on the school (its
counselors, classes, bodies) are filled by the views."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from core.forms import MultipleChoiceField, chosen, max_length, no_control_characters, required
from core.i18n import LANGUAGE_TITLES
from incidents.cases.enums import (
    CaseState,
    Outcome,
    PersonKind,
    PersonRole,
    ReferralTarget,
    RiskLevel,
    Screening,
)
from incidents.intake.models import Perpetrator, Place, Priority, ViolenceForm, WhenHappened
from incidents.referrals.services import FACT_CHOICES, LETTER_LANGUAGES

NONE = 0  # the "none" choice of optional select fields
ANY = ""  # the "any" choice of the rules' conditions


def options(pairs) -> list[SelectChoice]:
    """Choices for a select, radio or checkbox field from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


def enum_choices(enum_cls, values=None) -> list[SelectChoice]:
    # The lazy labels: these choices are built once, at import, for every language.
    return options((member.value, member.TITLES[member]) for member in (values or enum_cls))


class MultiCheckboxField(MultipleChoiceField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LocalDateField(DateField):
    """A date with an error message of our own catalogs."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            self.data = None
            raise ValueError(_l("Please enter a date.")) from error


class VersionedForm(FlaskForm):
    """Forms that change the case record carry the version they were made from."""

    version = HiddenField()

    @property
    def expected_version(self) -> int | None:
        try:
            return int(self.version.data)
        except (TypeError, ValueError):
            return None


def text_area(label, limit: int, *, needed: bool = False, description=None):
    validators = [required()] if needed else [Optional()]
    return TextAreaField(
        label,
        validators=[*validators, max_length(limit), no_control_characters],
        description=description,
    )


class TriageForm(VersionedForm):
    screening = RadioField(
        _l("Screening result"), choices=enum_choices(Screening), validators=[chosen()]
    )
    risk = RadioField(_l("Risk level"), choices=enum_choices(RiskLevel), validators=[chosen()])
    counselor_id = SelectField(
        _l("Assigned school psychologist"), coerce=int, validators=[chosen()]
    )
    injury = BooleanField(_l("A physical injury was seen or reported"))
    submit = SubmitField(_l("Save the triage"))


class CaseDetailsForm(VersionedForm):
    screening = SelectField(_l("Screening result"), validators=[Optional()])
    risk = SelectField(_l("Risk level"), validators=[Optional()])
    counselor_id = SelectField(_l("Assigned school psychologist"), coerce=int)
    injury = BooleanField(_l("A physical injury was seen or reported"))
    narrative = text_area(
        _l("Narrative"),
        20000,
        description=_l(
            "What is known and what was done, in plain facts. Only school psychologists read it."
        ),
    )
    submit = SubmitField(_l("Save"))


class StepForm(VersionedForm):
    to_state = HiddenField(validators=[InputRequired()])

    def validate_to_state(self, field) -> None:
        if field.data not in CaseState.__members__:
            raise ValidationError(_l("Please choose one."))


class CloseForm(VersionedForm):
    outcome = RadioField(_l("Outcome"), choices=enum_choices(Outcome), validators=[chosen()])
    closing_note = text_area(
        _l("Closing note"),
        4000,
        needed=True,
        description=_l(
            "Why the case can close, and what was checked at the follow-up. For a high or"
            " critical case the school administrator reads this note to approve the closure."
        ),
    )
    submit = SubmitField(_l("Close the case"))


class ReopenForm(VersionedForm):
    reason = StringField(
        _l("Why is the case reopened?"),
        validators=[required(), max_length(500), no_control_characters],
    )
    submit = SubmitField(_l("Reopen the case"))


class PriorityForm(VersionedForm):
    priority = SelectField(
        _l("New priority"), choices=enum_choices(Priority), validators=[chosen()]
    )
    reason = StringField(
        _l("Reason for the change"), validators=[required(), max_length(500), no_control_characters]
    )
    submit = SubmitField(_l("Change the priority"))


class PersonForm(FlaskForm):
    role = SelectField(
        _l("Role in the case"), choices=enum_choices(PersonRole), validators=[chosen()]
    )
    kind = SelectField(_l("Who they are"), choices=enum_choices(PersonKind), validators=[chosen()])
    classroom_id = SelectField(_l("Class"), coerce=int, validators=[Optional()])
    alias = StringField(
        _l("Short alias"),
        validators=[Optional(), max_length(40), no_control_characters],
        description=_l("Initials or a short pseudonym, never a full name."),
    )
    submit = SubmitField(_l("Add the person"))


class ActionForm(FlaskForm):
    kind = SelectField(_l("Action"), validators=[chosen()])
    person_id = SelectField(_l("With whom"), coerce=int, validators=[Optional()])
    lesson_slug = SelectField(_l("Lesson for the class"), validators=[Optional()])
    due_on = LocalDateField(_l("Due date"), validators=[InputRequired(_l("Please enter a date."))])
    submit = SubmitField(_l("Plan the action"))

    def validate_due_on(self, field) -> None:
        if field.data is not None and field.data < date(2000, 1, 1):
            raise ValidationError(_l("Please enter a date."))


class ActionDoneForm(FlaskForm):
    note = text_area(_l("What was done and agreed"), 4000)
    submit = SubmitField(_l("Mark as done"))


class DutyMetForm(FlaskForm):
    how = RadioField(
        _l("How the duty was met"),
        choices=options(
            [
                ("done", _l("Done as required")),
                ("not_needed", _l("Not needed in this case (reason given)")),
            ]
        ),
        validators=[chosen()],
    )
    note = text_area(_l("What was done, or why it is not needed"), 2000)
    submit = SubmitField(_l("Record how it was met"))


class MessageForm(FlaskForm):
    body = text_area(_l("Message to the student"), 4000, needed=True)
    submit = SubmitField(_l("Send to the student"))


class NewReferralForm(FlaskForm):
    body_id = SelectField(_l("Authorized body"), coerce=int, validators=[chosen()])
    submit = SubmitField(_l("Prepare a referral"))


class ReferralDraftForm(FlaskForm):
    body_id = SelectField(_l("Addressed to"), coerce=int, validators=[Optional()])
    language = RadioField(
        _l("Language of the letter"),
        choices=options((code, LANGUAGE_TITLES[code]) for code in LETTER_LANGUAGES),
        validators=[chosen()],
    )
    facts = MultiCheckboxField(
        _l("Facts to include"),
        choices=options(FACT_CHOICES.items()),
        validators=[Optional()],
        description=_l("Include only what the body needs to act."),
    )
    facts_text = text_area(
        _l("What the body needs to know"),
        4000,
        description=_l("Plain facts, without the child's name. The body asks the school for more."),
    )
    submit = SubmitField(_l("Save the draft"))


class SendReferralForm(FlaskForm):
    reference_number = StringField(
        _l("Outgoing number of the letter"),
        validators=[required(), max_length(40), no_control_characters],
    )
    submit = SubmitField(_l("Mark as sent"))


class AcknowledgeForm(FlaskForm):
    body_reference = StringField(
        _l("Your registration number"),
        validators=[Optional(), max_length(60), no_control_characters],
    )
    submit = SubmitField(_l("Acknowledge receipt"))


class OutcomeForm(FlaskForm):
    # Without a choice sent (an older page), the answer is the outcome that closes it.
    disposition = RadioField(
        _l("Your answer"),
        choices=options(
            [
                ("accepted", _l("Accepted for work (the outcome follows later)")),
                ("closed", _l("Closed with an outcome")),
                ("declined", _l("Declined (give the reason)")),
                ("transferred", _l("Transferred to another body (say which)")),
            ]
        ),
        default="closed",
        validators=[Optional()],
    )
    outcome_note = text_area(
        _l("Outcome, reason or the body it went to"),
        4000,
        description=_l(
            "What your body did, in a few plain words. The school psychologist reads it."
        ),
    )
    confirm = BooleanField(
        _l(
            "I confirm this answer. The school sees it at once; I can undo it within 15"
            " minutes, later only by a letter to the school."
        ),
        validators=[InputRequired(_l("Please confirm the outcome by ticking the box."))],
    )
    submit = SubmitField(_l("Record the answer"))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        # Every answer but an acceptance says what, why or where to.
        if (self.disposition.data or "closed") != "accepted" and not (
            self.outcome_note.data or ""
        ).strip():
            message = str(_l("Please fill in this field."))
            self.outcome_note.errors = [*self.outcome_note.errors, message]
            return False
        return valid


class UndoForm(FlaskForm):
    submit = SubmitField(_l("Undo my answer"))


class ApprovalForm(FlaskForm):
    decision = RadioField(
        _l("Decision"),
        choices=options([("approve", _l("Approve the closure")), ("decline", _l("Decline"))]),
        validators=[chosen()],
    )
    note = StringField(
        _l("Reason (needed to decline)"),
        validators=[Optional(), max_length(500), no_control_characters],
    )
    submit = SubmitField(_l("Decide"))


class TeacherReportForm(FlaskForm):
    forms = MultiCheckboxField(
        _l("What did you see or hear?"),
        choices=enum_choices(ViolenceForm),
        validators=[InputRequired(_l("Please choose at least one."))],
    )
    perpetrator = RadioField(
        _l("Who did it?"), choices=enum_choices(Perpetrator), validators=[chosen()]
    )
    place = SelectField(_l("Where?"), choices=enum_choices(Place), validators=[chosen()])
    happened = RadioField(_l("When?"), choices=enum_choices(WhenHappened), validators=[chosen()])
    classroom_id = SelectField(_l("Class of the child"), coerce=int, validators=[Optional()])
    is_danger_now = BooleanField(_l("The child is in danger right now"))
    description = text_area(
        _l("What happened"),
        8000,
        needed=True,
        description=_l(
            "What you saw or heard, when and where, the child's own words, and what you have"
            " already done. Facts, not conclusions."
        ),
    )
    submit = SubmitField(_l("Send the report"))


class RuleForm(FlaskForm):
    key = StringField(_l("Key"), validators=[required(), max_length(60), no_control_characters])
    screening = SelectField(_l("Screening result"), validators=[Optional()])
    form = SelectField(_l("Form of violence"), validators=[Optional()])
    perpetrator = SelectField(_l("Who did it"), validators=[Optional()])
    injury = SelectField(_l("Injury"), validators=[Optional()])
    target = SelectField(
        _l("Must be told"), choices=enum_choices(ReferralTarget), validators=[chosen()]
    )
    within_hours = IntegerField(
        _l("Within (hours)"),
        validators=[
            InputRequired(_l("Please fill in this field.")),
            NumberRange(0, 720, _l("Between %(min)d and %(max)d, please.", min=0, max=720)),
        ],
    )
    note = StringField(_l("Note"), validators=[Optional(), max_length(300), no_control_characters])
    active = BooleanField(_l("Rule is active"), default=True)
    submit = SubmitField(_l("Save"))

    def fill_choices(self) -> None:
        any_choice = options([(ANY, _l("Any"))])
        self.screening.choices = any_choice + enum_choices(Screening)
        self.form.choices = any_choice + enum_choices(ViolenceForm)
        self.perpetrator.choices = any_choice + enum_choices(Perpetrator)
        self.injury.choices = any_choice + options([("yes", _l("Yes")), ("no", _l("No"))])

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if not any((self.screening.data, self.form.data, self.perpetrator.data, self.injury.data)):
            self.screening.errors = [
                *self.screening.errors,
                _l("A rule needs at least one condition."),
            ]
            return False
        return valid
