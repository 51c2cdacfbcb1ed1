"""What the staff pages of incidents share for a request: the clock, the case loaded through the
user's scope (another school's case is a 404), a workflow step run and committed with its message,
and the case page's address.

A page that re-shows the case page with a form's errors uses ``case_pages.handle``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import flash, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from core.model_types import utcnow
from extensions import db
from incidents.cases.case_steps import StaleCaseError, WorkflowError
from incidents.cases.models import Case
from incidents.scopes import case_scope
from school.access import first_or_404


def now() -> datetime:
    return utcnow()


def load_case(case_id: int, *options) -> Case:
    return first_or_404(
        select(Case)
        .where(Case.id == case_id, case_scope(current_user, Case.school_id))
        .options(*options)
    )


def attempt(step: Callable[[], object], success: str | None = None) -> bool:
    """Run a workflow step and commit; a refusal or a stale save rolls back with a message."""
    try:
        step()
        db.session.commit()
    except WorkflowError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return False
    except StaleDataError:
        # Two saves raced past the version check: the first one won.
        db.session.rollback()
        flash(str(StaleCaseError().message), "error")
        return False
    if success:
        flash(success, "success")
    return True


def case_url(case: Case, anchor: str = "") -> str:
    return url_for("cases.case_detail", case_id=case.id, _anchor=anchor or None)
