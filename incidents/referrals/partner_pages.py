"""The partner's pages (an authorized body): the referrals sent to their body only; the partner
acknowledges them, records the outcome and prints the letter."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core import audit
from core.paging import paginate
from extensions import db
from incidents.cases.enums import ReferralStatus
from incidents.cases.forms import AcknowledgeForm, OutcomeForm
from incidents.cases.models import Referral
from incidents.cases.view_helpers import attempt, now
from incidents.referrals import letters
from incidents.referrals import services as referrals
from incidents.referrals.referral_pages import letter_response, load_referral
from incidents.scopes import referral_scope
from school.access import roles_required
from school.models import Role


def partner_scope():
    return referral_scope(current_user, Referral.school_id, Referral.body_id, Referral.status)


@roles_required(Role.partner)
def partner_referrals():
    stmt = (
        select(Referral)
        .where(partner_scope())
        .order_by((Referral.status == ReferralStatus.closed), Referral.sent_at.desc(), Referral.id)
    )
    return render_template("incidents/partner/list.html", referrals=paginate(stmt, request.args))


def _render_partner(referral: Referral, status: int = 200, **forms):
    return (
        render_template(
            "incidents/partner/referral.html",
            referral=referral,
            case=referral.case,
            fact_titles=referrals.FACT_CHOICES,
            victim_class=letters.victim_class(referral.case),
            ack_form=forms.get("ack_form") or AcknowledgeForm(formdata=None),
            outcome_form=forms.get("outcome_form") or OutcomeForm(formdata=None),
        ),
        status,
    )


@roles_required(Role.partner)
def partner_referral(referral_id: int):
    referral = load_referral(referral_id)
    audit.record("referral.view", referral, case_id=referral.case_id)
    db.session.commit()
    return _render_partner(referral)


@roles_required(Role.partner)
def partner_acknowledge(referral_id: int):
    referral = load_referral(referral_id)
    form = AcknowledgeForm()
    if not form.validate_on_submit():
        return _render_partner(referral, 400, ack_form=form)
    if attempt(
        lambda: referrals.acknowledge(
            referral, by=current_user, body_reference=form.body_reference.data or "", now=now()
        ),
        _("Receipt acknowledged. The school can see it."),
    ):
        return redirect(url_for("partner.partner_referral", referral_id=referral.id))
    return _render_partner(referral, 409, ack_form=form)


@roles_required(Role.partner)
def partner_outcome(referral_id: int):
    referral = load_referral(referral_id)
    form = OutcomeForm()
    if not form.validate_on_submit():
        return _render_partner(referral, 400, outcome_form=form)
    if attempt(
        lambda: referrals.record_outcome(
            referral, by=current_user, note=form.outcome_note.data, now=now()
        ),
        _("The outcome has been recorded. Thank you."),
    ):
        return redirect(url_for("partner.partner_referral", referral_id=referral.id))
    return _render_partner(referral, 409, outcome_form=form)


@roles_required(Role.partner)
def partner_letter(referral_id: int):
    return letter_response(load_referral(referral_id))
