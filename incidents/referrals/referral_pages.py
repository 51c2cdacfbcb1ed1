"""The counselor's referral pages: prepare, send, delete and print a referral of a case. A duty
desk officer uses the same pages, rules and letters for the cases of the reports the desk holds;
each step then returns to the desk's report page, not to the school's case page.

The partner's side is ``incidents.referrals.partner_pages``."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core import audit
from core.opaque import opaque
from core.pdf import pdf_response
from extensions import db
from incidents.cases import state_machine
from incidents.cases.case_pages import build_forms, render_case
from incidents.cases.deadlines import time_left
from incidents.cases.enums import ReferralStatus
from incidents.cases.forms import (
    NONE,
    NewReferralForm,
    ReferralDraftForm,
    SendReferralForm,
    options,
)
from incidents.cases.models import Case, Referral
from incidents.cases.view_helpers import attempt, case_url, load_case, now
from incidents.intake.models import Report
from incidents.referrals import letters
from incidents.referrals import services as referrals
from incidents.scopes import desk_report_scope, referral_scope
from school.access import first_or_404, permission_required
from school.models import AuthorizedBody, Permission


def load_referral(referral_id: int) -> Referral:
    if current_user.can(Permission.work_desk):
        return first_or_404(
            select(Referral)
            .join(Case, Case.id == Referral.case_id)
            .where(Referral.id == referral_id, _desk_cases())
        )
    return first_or_404(
        select(Referral).where(
            Referral.id == referral_id,
            referral_scope(current_user, Referral.school_id, Referral.body_id, Referral.status),
        )
    )


def _desk_cases():
    """The cases of the reports the officer's desk holds (alone or with the school)."""
    held = select(Report.id).where(
        desk_report_scope(current_user, Report.routing, Report.school_id)
    )
    return Case.report_id.in_(held)


def _load_case(case_id: int) -> Case:
    if current_user.can(Permission.work_desk):
        return first_or_404(select(Case).where(Case.id == case_id, _desk_cases()))
    return load_case(case_id)


def back_to_case(case: Case, anchor: str = "referrals"):
    """Where a step returns: the school's case page, or the desk's report page."""
    if current_user.can(Permission.work_desk):
        return url_for("desk.report_detail", report_id=case.report_id, _anchor=anchor)
    return case_url(case, anchor)


# --- the counselor's side ---------------------------------------------------------------------


@permission_required(Permission.write_referrals)
def referral_new(case_id: int):
    case = _load_case(case_id)
    form = NewReferralForm()
    if current_user.can(Permission.work_desk):
        return _desk_referral_new(case, form)
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
        return redirect(url_for("referrals.referral_detail", referral_id=created[0].id))
    return render_case(case, 409, referral_form=form)


def _desk_referral_new(case: Case, form: NewReferralForm):
    """The desk's "refer to a body" from its report page: a refusal is told there."""
    form.body_id.choices = options((b.id, b.name) for b in referrals.body_choices(case.school))
    body = None
    if form.validate_on_submit():
        body = next(b for b in referrals.body_choices(case.school) if b.id == form.body_id.data)
    else:
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "error")
    created: list[Referral] = []

    def run():
        created.append(
            referrals.new_referral(case, by=current_user, kind=body.kind, body=body, now=now())
        )

    if body is not None and attempt(run):
        return redirect(url_for("referrals.referral_detail", referral_id=created[0].id))
    return redirect(back_to_case(case))


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
        "back_url": back_to_case(referral.case),
    }
    return render_template("incidents/cases/referral.html", **context), status


@permission_required(Permission.read_referrals)
def referral_detail(referral_id: int):
    referral = load_referral(referral_id)
    if not current_user.can(Permission.read_narrative) and not current_user.can(
        Permission.work_desk
    ):
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
                return redirect(url_for("referrals.referral_detail", referral_id=referral.id))
            return _render_referral(referral, 409, draft_form=form)
        return _render_referral(referral, 400, draft_form=form)
    audit.record("referral.view", referral, case_id=referral.case_id)
    db.session.commit()
    return _render_referral(referral, draft_form=form)


@permission_required(Permission.write_referrals)
def referral_send(referral_id: int):
    referral = load_referral(referral_id)
    form = SendReferralForm()
    if not form.validate_on_submit():
        return _render_referral(referral, 400, send_form=form)
    if attempt(
        lambda: state_machine.send_referral(
            referral, by=current_user, reference_number=form.reference_number.data, now=now()
        ),
        _("The referral is marked as sent. The body can now see it in Qamqor."),
    ):
        return redirect(back_to_case(referral.case))
    return _render_referral(referral, 409, send_form=form)


@permission_required(Permission.write_referrals)
def referral_delete(referral_id: int):
    referral = load_referral(referral_id)
    case = referral.case
    if attempt(lambda: referrals.delete_draft(referral, by=current_user), _("Deleted.")):
        return redirect(back_to_case(case))
    return redirect(url_for("referrals.referral_detail", referral_id=referral_id))


@permission_required(Permission.write_referrals)
def referral_letter(referral_id: int):
    referral = load_referral(referral_id)
    return letter_response(referral)


def letter_response(referral: Referral):
    data = letters.render_letter(referral)
    audit.record(
        "referral.letter_pdf", referral, case_id=referral.case_id, language=referral.language
    )
    db.session.commit()
    return pdf_response(data, f"referral-{referral.case.label}-{opaque(referral.id)}.pdf")
