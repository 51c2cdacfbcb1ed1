"""The staff blueprint and its home page (with what each package adds to it), and the change of
a temporary password. The blueprint's other pages: ``school.auth`` (log-in), ``school.staff_pages``
(accounts and their confirmation) and ``school.directory_pages`` (classes, schools, regions,
bodies)."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, url_for
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
        attention=[
            line for source in _dashboard(current_app)["attention"] for line in source(current_user)
        ],
        links=dashboard_links(),
    )


def dashboard_links() -> list[tuple[str, str, bool]]:
    """Each package adds the entries for its features (see ``register_dashboard_link``); a
    role's first entries (``first_for``) come before the rest, marked as the main one."""
    role = current_user.role
    mine = [link for link in _dashboard(current_app)["links"] if current_user.has_role(*link[2])]
    mine.sort(key=lambda link: role not in link[3])  # stable: the packages' order otherwise
    return [(title, url_for(endpoint), role in first) for endpoint, title, _roles, first in mine]


def _dashboard(app: Flask) -> dict[str, list]:
    """The app's own tiles and attention sources (several apps may live in one process)."""
    return app.extensions.setdefault("qamqor_dashboard", {"links": [], "attention": []})


def register_dashboard_link(
    app: Flask, endpoint: str, title: object, *roles: Role, first_for: tuple[Role, ...] = ()
) -> None:
    """A tile of the staff home, shown to these roles, in the order the packages add them.
    ``first_for``: the roles whose home page shows this entry before the others (what the role
    comes for most, e.g. a teacher's "Report what I saw")."""
    links = _dashboard(app)["links"]
    if all(existing[0] != endpoint for existing in links):
        links.append((endpoint, title, frozenset(roles), frozenset(first_for)))


def register_dashboard_attention(app: Flask, source) -> None:
    """What needs action first: ``source(user)`` gives lines (each has ``key``, ``count``,
    ``text`` and ``url``), shown above the tiles, most urgent first."""
    attention = _dashboard(app)["attention"]
    if source not in attention:
        attention.append(source)


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
