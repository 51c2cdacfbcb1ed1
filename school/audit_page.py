"""The audit log's page: the school administrator reads their school's entries, the platform
administrator every entry (``school.access.audit_scope``); the log itself is ``core.audit``."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import Blueprint, render_template, request
from flask_login import current_user
from sqlalchemy import select

from core import audit
from core.audit import AuditEntry
from core.clock import local_zone
from core.collation import collated
from core.opaque import opaque, plain
from extensions import db
from school.access import audit_scope, permission_required, refuse_unconfirmed_counselor
from school.models import Permission, User

bp = Blueprint("audit", __name__, template_folder="templates")
# A counselor not yet confirmed is told why not (as on every page that reads cases).
bp.before_request(refuse_unconfirmed_counselor)

AUDIT_PAGE = 100


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _case_labels(rows) -> dict[int, str]:
    """The codes of the cases the page's entries name, in one statement: "Case AF67-2BUB", not
    "Case #4". Read from the table (the school package does not import the cases' models).
    Only for the school's administrator: the platform administrator reads no case, and sees a
    case by its token only."""
    if not current_user.can(Permission.read_audit_case_codes):
        return {}
    ids = {entry.object_id for entry, _name in rows if entry.object_type == "Case"}
    if not ids:
        return {}
    cases = db.metadata.tables["cases"]
    found = db.session.execute(select(cases.c.id, cases.c.label).where(cases.c.id.in_(ids)))
    return dict(found.all())


@bp.get("/staff/audit")
@permission_required(Permission.read_audit_log)
def audit_log():
    before = plain(request.args.get("before") or "")  # a token: the chain's place counts
    kind = request.args.get("kind", "")
    kind = kind if kind in audit.ACTION_TITLES else ""
    since, until = _day(request.args.get("from")), _day(request.args.get("to"))
    stmt = (
        select(AuditEntry, User.full_name)
        .outerjoin(User, User.id == AuditEntry.actor_id)
        .where(audit_scope(current_user, AuditEntry.school_id))
        .order_by(AuditEntry.id.desc())  # across chains: in the order written
        .limit(AUDIT_PAGE + 1)
    )
    if before:
        stmt = stmt.where(AuditEntry.id < before)
    if kind:
        stmt = stmt.where(AuditEntry.action == kind)
    zone = local_zone()
    if since:
        stmt = stmt.where(AuditEntry.at >= datetime.combine(since, time.min, zone))
    if until:
        stmt = stmt.where(
            AuditEntry.at < datetime.combine(until + timedelta(days=1), time.min, zone)
        )
    rows = db.session.execute(stmt).all()
    more = len(rows) > AUDIT_PAGE
    rows = rows[:AUDIT_PAGE]
    audit.record("audit.view", None, school_id=current_user.school_id, before=before)
    db.session.commit()
    kinds = collated(
        ((code, str(title)) for code, title in audit.ACTION_TITLES.items()), key=lambda k: k[1]
    )
    return render_template(
        "school/audit_log.html",
        rows=rows,
        case_labels=_case_labels(rows),
        kinds=kinds,
        kind=kind,
        since=since,
        until=until,
        next_before=opaque(rows[-1][0].id) if more and rows else None,
    )
