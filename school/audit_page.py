"""The audit log's page: the school administrator reads their school's entries, the platform
administrator every entry (``school.access.audit_scope``); the log itself is ``core.audit``."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user
from sqlalchemy import select

from core import audit
from core.audit import AuditEntry
from core.opaque import opaque, plain
from extensions import db
from school.access import audit_scope, refuse_unconfirmed_counselor, roles_required
from school.models import Role, User

bp = Blueprint("audit", __name__, template_folder="templates")
# A counselor not yet confirmed is told why not (as on every page that reads cases).
bp.before_request(refuse_unconfirmed_counselor)

AUDIT_PAGE = 100


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
        "school/audit_log.html",
        rows=rows,
        next_before=opaque(rows[-1][0].seq) if more and rows else None,
    )
