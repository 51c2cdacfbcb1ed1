"""The staff blueprint and its home page (with what each package adds to it), and the change of
a temporary password. The blueprint's other pages: ``school.auth`` (log-in), ``school.staff_pages``
(accounts and their confirmation) and ``school.directory_pages`` (classes, schools, regions,
bodies)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from extensions import db
from school.access import school_scope
from school.models import Classroom, Permission, Role, User

bp = Blueprint("school", __name__, template_folder="templates")

NONE = 0  # the "none" choice of optional select fields


@bp.get("/staff")
@login_required
def dashboard():
    school = current_user.school
    stats = {}
    if current_user.can(Permission.manage_school):
        scope = school_scope(current_user, Classroom.school_id)
        stats["classes"] = db.session.scalar(select(func.count(Classroom.id)).where(scope))
        stats["staff"] = db.session.scalar(
            select(func.count(User.id)).where(
                school_scope(current_user, User.school_id), User.school_id.is_not(None)
            )
        )
    return render_template(
        "school/dashboard.html",
        school=school,
        stats=stats,
        attention=[line for source in DASHBOARD_ATTENTION for line in source(current_user)],
        links=dashboard_links(),
    )


def dashboard_links() -> list[tuple[str, str]]:
    """Each package adds the entries for its features (see ``register_dashboard_link``)."""
    return [
        (title, url_for(endpoint))
        for endpoint, title, roles in DASHBOARD_LINKS
        if current_user.has_role(*roles)
    ]


DASHBOARD_LINKS: list[tuple[str, object, frozenset[Role]]] = []


def register_dashboard_link(endpoint: str, title: object, *roles: Role) -> None:
    """Idempotent: ``create_app`` may run many times in one process (tests, workers)."""
    if all(existing != endpoint for existing, _title, _roles in DASHBOARD_LINKS):
        DASHBOARD_LINKS.append((endpoint, title, frozenset(roles)))


# What needs action first: each package may add a function ``user -> lines`` (each line has
# ``key``, ``count``, ``text`` and ``url``), shown above the tiles, most urgent first.
DASHBOARD_ATTENTION: list = []


def register_dashboard_attention(source) -> None:
    """Idempotent, like ``register_dashboard_link``."""
    if source not in DASHBOARD_ATTENTION:
        DASHBOARD_ATTENTION.append(source)


# --- a password someone else issued is changed first -------------------------------------------

# What a person with a temporary password may still open: the change itself, leaving, the
# language and the files the pages need.
OPEN_WITH_TEMPORARY_PASSWORD = frozenset(
    {"school.change_password", "school.logout", "i18n.switch", "static"}
)


@bp.before_app_request
def require_own_password():
    """A password issued by someone else (a new account, a reset) opens only the page that
    changes it; every other page leads there. (Independent of the log-in steps.)"""
    if (
        request.endpoint in OPEN_WITH_TEMPORARY_PASSWORD
        or not current_user.is_authenticated
        or not current_user.must_change_password
    ):
        return None
    flash(_("Choose your own password first: the one you were given is temporary."), "info")
    return redirect(url_for("school.change_password"))
