"""Referrals: the counselor prepares, sends and prints them; a partner (an authorized body) sees
only those sent to their body, acknowledges them and records the outcome."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core import audit
from core.opaque import opaque
from core.paging import paginate
from core.pdf import pdf_response
from extensions import db
from incidents import letters, referrals
from incidents.case_enums import ReferralStatus
from incidents.case_forms import (
    NONE,
    AcknowledgeForm,
    NewReferralForm,
    OutcomeForm,
    ReferralDraftForm,
    SendReferralForm,
    options,
)
from incidents.cases import Referral
from incidents.deadlines import time_left
from incidents.staff import attempt, bp, build_forms, case_url, load_case, now, render_case
from school.access import first_or_404, reads_narrative, referral_scope, roles_required
from school.models import AuthorizedBody, Role


def load_referral(referral_id: int) -> Referral:
    return first_or_404(
        select(Referral).where(
            Referral.id == referral_id,
            referral_scope(current_user, Referral.school_id, Referral.body_id, Referral.status),
        )
    )


# --- the counselor's side ---------------------------------------------------------------------


@bp.post("/staff/cases/<opaque:case_id>/referrals")
@roles_required(Role.counselor)
def referral_new(case_id: int):
    case = load_case(case_id)
    form = NewReferralForm()
    build_forms(case, referral_form=form)
    if not form.validate_on_submit():
        return render_case(case, 400, referral_form=form)
    body = next((b for b in referrals.body_choices(case.school) if b.id == form.body_id.data), None)
    created: list[Referral] = []

    def run():
        created.append(
            referrals.new_referral(case, by=current_user, kind=body.kind, body=body, now=now())
        )

    if body is not None and attempt(run):
        return redirect(url_for("cases.referral_detail", referral_id=created[0].id))
    return render_case(case, 409, referral_form=form)


def _draft_form(referral: Referral, formdata=None) -> ReferralDraftForm:
    form = ReferralDraftForm(formdata=formdata, obj=None if formdata else referral)
    bodies = referrals.body_choices(referral.case.school, referral.body_kind)
    form.body_id.choices = options([(NONE, "—")] + [(b.id, b.name) for b in bodies])
    if formdata is None:
        form.body_id.data = referral.body_id or NONE
        form.facts.data = referral.facts
    return form


def _render_referral(referral: Referral, status: int = 200, **forms):
    moment = now()
    context = {
        "referral": referral,
        "case": referral.case,
        "draft_form": forms.get("draft_form") or _draft_form(referral),
        "send_form": forms.get("send_form") or SendReferralForm(formdata=None),
        "overdue": referrals.is_overdue(referral, moment),
        "left": time_left(referral.deadline_at, moment)
        if referral.status == ReferralStatus.draft
        else None,
        "fact_titles": referrals.FACT_CHOICES,
    }
    return render_template("incidents/cases/referral.html", **context), status


@bp.route("/staff/referrals/<opaque:referral_id>", methods=["GET", "POST"])
@roles_required(Role.counselor, Role.school_admin)
def referral_detail(referral_id: int):
    referral = load_referral(referral_id)
    if not reads_narrative(current_user):
        # The administrator follows referrals from the case page; the letter's facts are not theirs.
        abort(403)
    form = _draft_form(referral, formdata=None)
    if request.method == "POST":
        form = _draft_form(referral, formdata=request.form)
        if form.validate_on_submit():
            body = db.session.get(AuthorizedBody, form.body_id.data or 0)
            if attempt(
                lambda: referrals.update_draft(
                    referral,
                    by=current_user,
                    body=body,
                    language=form.language.data,
                    facts=form.facts.data or [],
                    facts_text=form.facts_text.data or "",
                ),
                _("The draft has been saved."),
            ):
                return redirect(url_for("cases.referral_detail", referral_id=referral.id))
            return _render_referral(referral, 409, draft_form=form)
        return _render_referral(referral, 400, draft_form=form)
    audit.record("referral.view", referral, case_id=referral.case_id)
    db.session.commit()
    return _render_referral(referral, draft_form=form)


@bp.post("/staff/referrals/<opaque:referral_id>/send")
@roles_required(Role.counselor)
def referral_send(referral_id: int):
    referral = load_referral(referral_id)
    form = SendReferralForm()
    if not form.validate_on_submit():
        return _render_referral(referral, 400, send_form=form)
    if attempt(
        lambda: referrals.send(
            referral, by=current_user, reference_number=form.reference_number.data, now=now()
        ),
        _("The referral is marked as sent. The body can now see it in Qamqor."),
    ):
        return redirect(case_url(referral.case, "referrals"))
    return _render_referral(referral, 409, send_form=form)


@bp.post("/staff/referrals/<opaque:referral_id>/delete")
@roles_required(Role.counselor)
def referral_delete(referral_id: int):
    referral = load_referral(referral_id)
    case = referral.case
    if attempt(lambda: referrals.delete_draft(referral, by=current_user), _("Deleted.")):
        return redirect(case_url(case, "referrals"))
    return redirect(url_for("cases.referral_detail", referral_id=referral_id))


@bp.get("/staff/referrals/<opaque:referral_id>/letter.pdf")
@roles_required(Role.counselor)
def referral_letter(referral_id: int):
    referral = load_referral(referral_id)
    return _letter(referral)


def _letter(referral: Referral):
    data = letters.render_letter(referral)
    audit.record(
        "referral.letter_pdf", referral, case_id=referral.case_id, language=referral.language
    )
    db.session.commit()
    return pdf_response(data, f"referral-{referral.case.label}-{opaque(referral.id)}.pdf")


# --- the partner's side -----------------------------------------------------------------------


def partner_scope():
    return referral_scope(current_user, Referral.school_id, Referral.body_id, Referral.status)


@bp.get("/partner/referrals")
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


@bp.get("/partner/referrals/<opaque:referral_id>")
@roles_required(Role.partner)
def partner_referral(referral_id: int):
    referral = load_referral(referral_id)
    audit.record("referral.view", referral, case_id=referral.case_id)
    db.session.commit()
    return _render_partner(referral)


@bp.post("/partner/referrals/<opaque:referral_id>/acknowledge")
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
        return redirect(url_for("cases.partner_referral", referral_id=referral.id))
    return _render_partner(referral, 409, ack_form=form)


@bp.post("/partner/referrals/<opaque:referral_id>/outcome")
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
        return redirect(url_for("cases.partner_referral", referral_id=referral.id))
    return _render_partner(referral, 409, outcome_form=form)


@bp.get("/partner/referrals/<opaque:referral_id>/letter.pdf")
@roles_required(Role.partner)
def partner_letter(referral_id: int):
    return _letter(load_referral(referral_id))
