"""Watching the response: the case list, the overdue lists (per counselor and per school) and
the school administrator's approvals of closures."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.paging import paginate
from extensions import db
from incidents.cases import duties, state_machine
from incidents.cases.enums import CaseState, ClosureDecision
from incidents.cases.forms import ApprovalForm
from incidents.cases.models import Case, ClosureRequest
from incidents.cases.overdue import overdue_lists
from incidents.cases.view_helpers import attempt, now
from incidents.scopes import case_scope
from school.access import first_or_404, permission_required
from school.models import Permission


@permission_required(Permission.read_cases)
def case_list():
    state = request.args.get("state", "")
    stmt = (
        select(Case)
        .where(case_scope(current_user, Case.school_id))
        .order_by(Case.updated_at.desc(), Case.id.desc())
        # Each row shows its source's priority: the reports in one statement, not one per row.
        .options(
            selectinload(Case.counselor),
            selectinload(Case.report),
            selectinload(Case.teacher_report),
        )
    )
    if state in CaseState.__members__:
        stmt = stmt.where(Case.state == CaseState(state))
    return render_template(
        "incidents/cases/case_list.html",
        cases=paginate(stmt, request.args),
        state=state,
        states=list(CaseState),
    )


@permission_required(Permission.read_cases)
def overdue():
    mine = current_user.can(Permission.work_cases) and request.args.get("who") != "school"
    lists = overdue_lists(
        lambda column: case_scope(current_user, column),
        now(),
        counselor=current_user if mine else None,
    )
    return render_template(
        "incidents/cases/overdue.html",
        lists=lists,
        mine=mine,
        now=now(),
        duty_title=duties.title,
    )


# --- closures waiting for approval ------------------------------------------------------------


@permission_required(Permission.decide_closures)
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
        blockers={r.id: state_machine.closure_blockers(r.case) for r in pending},
        form=ApprovalForm(formdata=None),
    )


@permission_required(Permission.decide_closures)
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
        lambda: state_machine.decide_closure(
            closure, by=current_user, approve=approve, note=form.note.data or "", now=now()
        ),
        _("The case is closed.") if approve else _("The closure was declined."),
    )
    return redirect(url_for("cases.approvals"))
