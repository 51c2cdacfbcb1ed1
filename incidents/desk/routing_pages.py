"""The platform administrator's page for the routing rules (``incidents.desk.routing``): the
rules in their order, each a condition (the perpetrator's kind and/or the priority) and who reads
a report it matches. A rule set ``routing.check`` refuses is not saved, with the reason in the
administrator's language; every change is in the audit log with the rules before and after."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import delete
from wtforms import SelectField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from core import audit
from extensions import db
from incidents.desk import routing
from incidents.desk.routing import RoutingRule, RoutingRuleRow
from incidents.intake.models import Holder, Perpetrator, Priority
from school.access import permission_required
from school.roles import Permission

ROWS = 6
REFUSALS = {
    "staff": _l(
        "A report about the school's own staff must go to the duty desk alone: the"
        " school learns of it only when the desk decides. Nothing was changed."
    ),
    "critical": _l(
        "A critical report must reach the duty desk, which is on duty at night."
        " Nothing was changed."
    ),
    "school": _l(
        "Any other report must reach its school: the report form tells the student that"
        " a psychologist of their school reads it. Nothing was changed."
    ),
}
ANY = ""
UNUSED = ""


class ChoiceField(SelectField):
    def pre_validate(self, form) -> None:
        try:
            super().pre_validate(form)
        except ValidationError as error:
            raise ValidationError(_l("Please choose one.")) from error


class RulesForm(FlaskForm):
    submit = SubmitField(_l("Save the rules"))

    def rows(self):
        """[(n, perpetrator, priority, holder)] fields, in order."""
        return [
            (n, self[f"perpetrator_{n}"], self[f"priority_{n}"], self[f"holder_{n}"])
            for n in range(1, ROWS + 1)
        ]

    def fill(self, rules: tuple[RoutingRule, ...]) -> None:
        for (_n, perpetrator, priority, holder), rule in zip(self.rows(), rules, strict=False):
            perpetrator.data = rule.perpetrator.value if rule.perpetrator else ANY
            priority.data = rule.priority.value if rule.priority else ANY
            holder.data = rule.holder.value

    def chosen(self) -> list[tuple[int, RoutingRule]]:
        return [
            (
                n,
                RoutingRule(
                    key=f"{perpetrator.data or 'any'}-{priority.data or 'any'}",
                    perpetrator=Perpetrator(perpetrator.data) if perpetrator.data else None,
                    priority=Priority(priority.data) if priority.data else None,
                    holder=Holder(holder.data),
                ),
            )
            for n, perpetrator, priority, holder in self.rows()
            if holder.data != UNUSED
        ]

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        chosen = self.chosen()
        seen = set()
        for n, rule in chosen:
            if rule.key in seen:
                self[f"perpetrator_{n}"].errors.append(_l("This condition is already above."))
                return False
            seen.add(rule.key)
        try:
            routing.check([rule for _n, rule in chosen])
        except routing.Unsafe as unsafe:
            self.holder_1.errors.append(REFUSALS[unsafe.args[0]])
            return False
        return True


for _n in range(1, ROWS + 1):
    setattr(
        RulesForm,
        f"perpetrator_{_n}",
        ChoiceField(
            _l("Rule %(n)d: who did it", n=_n),
            choices=[SelectChoice(ANY, _l("Anyone"))]
            + [SelectChoice(p.value, p.title) for p in Perpetrator],
            default=ANY,
        ),
    )
    setattr(
        RulesForm,
        f"priority_{_n}",
        ChoiceField(
            _l("Rule %(n)d: priority", n=_n),
            choices=[SelectChoice(ANY, _l("Any priority"))]
            + [SelectChoice(p.value, p.title) for p in Priority],
            default=ANY,
        ),
    )
    setattr(
        RulesForm,
        f"holder_{_n}",
        ChoiceField(
            _l("Rule %(n)d: who reads the report", n=_n),
            choices=[SelectChoice(UNUSED, _l("No rule here"))]
            + [SelectChoice(h.value, h.title) for h in Holder],
            default=UNUSED,
        ),
    )


def _described(rules) -> list[dict]:
    return [
        {
            "perpetrator": rule.perpetrator.value if rule.perpetrator else None,
            "priority": rule.priority.value if rule.priority else None,
            "holder": rule.holder.value,
        }
        for rule in rules
    ]


@permission_required(Permission.manage_platform)
def rules():
    form = RulesForm()
    if not form.is_submitted():
        form.fill(routing.rules())
    elif form.validate():
        before = routing.rules()
        after = [rule for _n, rule in form.chosen()]
        db.session.execute(delete(RoutingRuleRow))
        db.session.flush()
        for position, rule in enumerate(after, start=1):
            db.session.add(
                RoutingRuleRow(
                    position=position,
                    key=rule.key,
                    perpetrator=rule.perpetrator,
                    priority=rule.priority,
                    holder=rule.holder,
                )
            )
        audit.record("routing.rules_edit", None, before=_described(before), after=_described(after))
        db.session.commit()
        routing.forget()
        flash(_("The routing rules are saved: they decide where the next report goes."), "success")
        return redirect(url_for("desk.routing_rules"), 303)
    status = 400 if form.is_submitted() else 200
    return render_template("incidents/desk/routing_rules.html", form=form), status
