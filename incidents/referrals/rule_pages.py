"""The platform administrator's table of referral rules: list, add and edit a rule."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from core import audit
from extensions import db
from incidents.cases.enums import ReferralTarget, Screening
from incidents.cases.forms import ANY, RuleForm
from incidents.cases.models import ReferralRule
from incidents.cases.view_helpers import now
from incidents.intake.models import Perpetrator, ViolenceForm
from school.access import permission_required
from school.roles import Permission


@permission_required(Permission.manage_platform)
def rules():
    rows = db.session.scalars(select(ReferralRule).order_by(ReferralRule.key)).all()
    return render_template("incidents/cases/rules.html", rules=rows)


@permission_required(Permission.manage_platform)
def rule_edit(rule_id: int | None):
    rule = db.get_or_404(ReferralRule, rule_id) if rule_id else None
    form = RuleForm(obj=rule)
    form.fill_choices()
    if request.method == "GET" and rule is not None:
        form.screening.data = rule.screening.value if rule.screening else ANY
        form.form.data = rule.form.value if rule.form else ANY
        form.perpetrator.data = rule.perpetrator.value if rule.perpetrator else ANY
        form.injury.data = {True: "yes", False: "no"}.get(rule.injury, ANY)
        form.target.data = rule.target.value
    if form.validate_on_submit():
        key = form.key.data.strip()
        clash = db.session.scalar(
            select(ReferralRule.id).where(
                ReferralRule.key == key, ReferralRule.id != (rule_id or 0)
            )
        )
        if clash:
            form.key.errors.append(_("A rule with this key already exists."))
        else:
            if rule is None:
                rule = ReferralRule(key=key)
                db.session.add(rule)
            rule.key = key
            rule.screening = Screening(form.screening.data) if form.screening.data else None
            rule.form = ViolenceForm(form.form.data) if form.form.data else None
            rule.perpetrator = Perpetrator(form.perpetrator.data) if form.perpetrator.data else None
            rule.injury = {"yes": True, "no": False}.get(form.injury.data)
            rule.target = ReferralTarget(form.target.data)
            rule.within_hours = form.within_hours.data
            rule.note = (form.note.data or "").strip()
            rule.active = form.active.data
            rule.updated_at = rule.edited_at = now()
            db.session.flush()
            audit.record(
                "referral_rule.save",
                rule,
                key=rule.key,
                target=rule.target.value,
                within_hours=rule.within_hours,
                active=rule.active,
            )
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("referrals.rules"))
    elif request.method == "POST":
        return render_template("incidents/cases/rule_form.html", form=form, rule=rule), 400
    return render_template("incidents/cases/rule_form.html", form=form, rule=rule)
