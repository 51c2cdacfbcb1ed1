"""The partner's pages (an authorized body): the referrals sent to their body only; the partner
acknowledges them, records the answer (``incidents.referrals.answers``), may undo it for a short
time, and prints the letter."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core import audit
from core.paging import paginate
from extensions import db
from incidents.cases.deadlines import time_left
from incidents.cases.enums import Disposition, ReferralStatus
from incidents.cases.forms import AcknowledgeForm, OutcomeForm, UndoForm
from incidents.cases.models import Referral
from incidents.cases.view_helpers import attempt, now
from incidents.referrals import answers, letters
from incidents.referrals import services as referrals
from incidents.referrals.referral_pages import letter_response, load_referral
from incidents.scopes import referral_scope
from school.access import permission_required
from school.roles import Permission


def partner_scope():
    return referral_scope(current_user, Referral.school_id, Referral.body_id, Referral.status)


@permission_required(Permission.answer_referrals)
def partner_referrals():
    stmt = (
        select(Referral)
        .where(partner_scope())
        .order_by((Referral.status == ReferralStatus.closed), Referral.sent_at.desc(), Referral.id)
    )
    moment = now()

    def answer_left(referral: Referral):
        if referral.disposition is None and referral.answer_due_at is not None:
            return time_left(referral.answer_due_at, moment)
        return None

    return render_template(
        "incidents/partner/list.html",
        referrals=paginate(stmt, request.args),
        answer_left=answer_left,
    )


def _render_partner(referral: Referral, status: int = 200, **forms):
    moment = now()
    unanswered = referral.disposition is None and referral.status.is_sent
    return (
        render_template(
            "incidents/partner/referral.html",
            referral=referral,
            case=referral.case,
            fact_titles=referrals.FACT_CHOICES,
            victim_class=letters.victim_class(referral.case),
            ack_form=forms.get("ack_form") or AcknowledgeForm(formdata=None),
            outcome_form=forms.get("outcome_form") or OutcomeForm(formdata=None),
            undo_form=UndoForm(formdata=None),
            can_undo=answers.can_undo(referral, current_user, moment),
            undo_until=referral.disposition_at + answers.UNDO_WINDOW
            if referral.disposition_at
            else None,
            answer_left=time_left(referral.answer_due_at, moment)
            if unanswered and referral.answer_due_at
            else None,
        ),
        status,
    )


@permission_required(Permission.answer_referrals)
def partner_referral(referral_id: int):
    referral = load_referral(referral_id)
    audit.record("referral.view", referral, case_id=referral.case_id)
    db.session.commit()
    return _render_partner(referral)


@permission_required(Permission.answer_referrals)
def partner_acknowledge(referral_id: int):
    referral = load_referral(referral_id)
    form = AcknowledgeForm()
    if not form.validate_on_submit():
        return _render_partner(referral, 400, ack_form=form)
    if attempt(
        lambda: answers.acknowledge(
            referral, by=current_user, body_reference=form.body_reference.data or "", now=now()
        ),
        _("Receipt acknowledged. The school can see it."),
    ):
        return redirect(url_for("partner.partner_referral", referral_id=referral.id))
    return _render_partner(referral, 409, ack_form=form)


@permission_required(Permission.answer_referrals)
def partner_outcome(referral_id: int):
    referral = load_referral(referral_id)
    form = OutcomeForm()
    if not form.validate_on_submit():
        return _render_partner(referral, 400, outcome_form=form)
    if attempt(
        lambda: answers.answer(
            referral,
            by=current_user,
            disposition=Disposition(form.disposition.data or "closed"),
            note=form.outcome_note.data or "",
            now=now(),
        ),
        _("Your answer has been recorded. The school can see it. Thank you."),
    ):
        return redirect(url_for("partner.partner_referral", referral_id=referral.id))
    return _render_partner(referral, 409, outcome_form=form)


@permission_required(Permission.answer_referrals)
def partner_undo(referral_id: int):
    referral = load_referral(referral_id)
    form = UndoForm()
    if not form.validate_on_submit():
        return _render_partner(referral, 400)
    if attempt(
        lambda: answers.undo(referral, by=current_user, now=now()),
        _("Your answer has been undone. You can record it again."),
    ):
        return redirect(url_for("partner.partner_referral", referral_id=referral.id))
    return _render_partner(referral, 409)


@permission_required(Permission.answer_referrals)
def partner_letter(referral_id: int):
    return letter_response(load_referral(referral_id))
