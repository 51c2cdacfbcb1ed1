"""Watching the response: the case list, the overdue lists (per counselor and per school), the
school administrator's approvals and audit log, and the platform administrator's rules table."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core import audit
from core.audit import AuditEntry
from core.opaque import opaque, plain
from core.paging import paginate
from extensions import db
from incidents import workflow
from incidents.case_enums import CaseState, ClosureDecision, ReferralTarget, Screening
from incidents.case_forms import ANY, ApprovalForm, RuleForm
from incidents.cases import Case, ClosureRequest, ReferralRule
from incidents.models import Perpetrator, ViolenceForm
from incidents.overdue import overdue_lists
from incidents.staff import STAFF, attempt, bp, now
from school.access import audit_scope, case_scope, first_or_404, roles_required
from school.models import Role, User

AUDIT_PAGE = 100


@bp.get("/staff/cases")
@roles_required(*STAFF)
def case_list():
    state = request.args.get("state", "")
    stmt = (
        select(Case)
        .where(case_scope(current_user, Case.school_id))
        .order_by(Case.updated_at.desc(), Case.id.desc())
        .options(selectinload(Case.counselor))
    )
    if state in CaseState.__members__:
        stmt = stmt.where(Case.state == CaseState(state))
    return render_template(
        "incidents/cases/case_list.html",
        cases=paginate(stmt, request.args),
        state=state,
        states=list(CaseState),
    )


@bp.get("/staff/overdue")
@roles_required(*STAFF)
def overdue():
    mine = current_user.role == Role.counselor and request.args.get("who") != "school"
    lists = overdue_lists(
        lambda column: case_scope(current_user, column),
        now(),
        counselor=current_user if mine else None,
    )
    return render_template("incidents/cases/overdue.html", lists=lists, mine=mine, now=now())


# --- closures waiting for approval ------------------------------------------------------------


@bp.get("/staff/approvals")
@roles_required(Role.school_admin)
def approvals():
    scope = case_scope(current_user, ClosureRequest.school_id)
    pending = db.session.scalars(
        select(ClosureRequest)
        .where(scope, ClosureRequest.decision == ClosureDecision.pending)
        .order_by(ClosureRequest.requested_at)
    ).all()
    decided = db.session.scalars(
        select(ClosureRequest)
        .where(scope, ClosureRequest.decision != ClosureDecision.pending)
        .order_by(ClosureRequest.decided_at.desc())
        .limit(50)
    ).all()
    return render_template(
        "incidents/cases/approvals.html",
        pending=pending,
        decided=decided,
        blockers={r.id: workflow.closure_blockers(r.case) for r in pending},
        form=ApprovalForm(formdata=None),
    )


@bp.post("/staff/approvals/<opaque:request_id>")
@roles_required(Role.school_admin)
def approval_decide(request_id: int):
    closure = first_or_404(
        select(ClosureRequest).where(
            ClosureRequest.id == request_id,
            case_scope(current_user, ClosureRequest.school_id),
        )
    )
    form = ApprovalForm()
    if not form.validate_on_submit():
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "error")
        return redirect(url_for("cases.approvals"))
    approve = form.decision.data == "approve"
    attempt(
        lambda: workflow.decide_closure(
            closure, by=current_user, approve=approve, note=form.note.data or "", now=now()
        ),
        _("The case is closed.") if approve else _("The closure was declined."),
    )
    return redirect(url_for("cases.approvals"))


# --- the audit log ----------------------------------------------------------------------------


@bp.get("/staff/audit")
@roles_required(Role.school_admin, Role.admin)
def audit_log():
    before = plain(request.args.get("before") or "")  # a token: the chain's place counts
    stmt = (
        select(AuditEntry, User.full_name)
        .outerjoin(User, User.id == AuditEntry.actor_id)
        .where(audit_scope(current_user, AuditEntry.school_id))
        .order_by(AuditEntry.seq.desc())
        .limit(AUDIT_PAGE + 1)
    )
    if before:
        stmt = stmt.where(AuditEntry.seq < before)
    rows = db.session.execute(stmt).all()
    more = len(rows) > AUDIT_PAGE
    rows = rows[:AUDIT_PAGE]
    audit.record("audit.view", None, school_id=current_user.school_id, before=before)
    db.session.commit()
    return render_template(
        "incidents/cases/audit_log.html",
        rows=rows,
        next_before=opaque(rows[-1][0].seq) if more and rows else None,
    )


# --- the referral rules (platform administrator) ----------------------------------------------


@bp.get("/admin/referral-rules")
@roles_required(Role.admin)
def rules():
    rows = db.session.scalars(select(ReferralRule).order_by(ReferralRule.key)).all()
    return render_template("incidents/cases/rules.html", rules=rows)


@bp.route("/admin/referral-rules/new", methods=["GET", "POST"], defaults={"rule_id": None})
@bp.route("/admin/referral-rules/<int:rule_id>", methods=["GET", "POST"])
@roles_required(Role.admin)
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
            return redirect(url_for("cases.rules"))
    elif request.method == "POST":
        return render_template("incidents/cases/rule_form.html", form=form, rule=rule), 400
    return render_template("incidents/cases/rule_form.html", form=form, rule=rule)
