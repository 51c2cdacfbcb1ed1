"""The directory: regions, schools, classes, authorized bodies and staff accounts."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from extensions import db, login_manager


def init_app(app: Flask) -> None:
    from core.config import check_choices

    # auth, staff_pages and directory_pages add their routes to views.bp
    from school import audit_page, auth, cli, directory_pages, lockout, staff_pages, views  # noqa: F401
    from school.models import Role, User
    from school.roles import Permission

    check_choices(app.config, "TWO_FACTOR_ROLES", [role.value for role in Role])
    login_manager.login_view = "school.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(token: str) -> User | None:
        user_id, _sep, nonce = token.partition(":")
        if not user_id.isdigit():
            return None
        user = db.session.get(User, int(user_id))
        # A changed nonce (new password, deactivation) ends the session.
        if user is None or not user.active or user.session_nonce != nonce:
            return None
        return user

    # Templates ask ``current_user.can(Permission.x)`` like the views (``school.roles``).
    app.jinja_env.globals["Permission"] = Permission
    app.register_blueprint(views.bp)
    app.register_blueprint(audit_page.bp)
    cli.init_app(app)
    lockout.init_app(app)
