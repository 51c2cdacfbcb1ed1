"""Staff log-in: password, then a second factor; idle time-out, password changes.

Which step a session may take is decided in one place, ``school.login_flow``; lock-out is
``school.lockout``. Each view here asks the flow, then acts."""

from __future__ import annotations

import time

import segno
from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from markupsafe import Markup

from core import audit
from core.i18n import safe_next
from core.model_types import utcnow
from extensions import db, limiter
from school import lockout, login_flow, security, services
from school.forms import (
    ChangePasswordForm,
    CodeForm,
    CurrentFactorForm,
    LoginForm,
    TwoFactorSetupForm,
)
from school.login_flow import State, Step
from school.models import User
from school.views import bp


def _generic_failure() -> None:
    # One message whether the e-mail exists, the password is wrong or the client is locked out.
    flash(_("The e-mail or password is not right."), "error")


def _wrong_code(form) -> None:
    form.code.errors.append(_("This code is not right. Try the next one from the app."))


def _finish_login(user: User, target: str | None):
    locale = session.get("locale") or user.locale
    session.clear()
    if locale:
        session["locale"] = locale
    login_user(user)
    session["seen"] = time.time()
    lockout.record_success(user)
    user.last_login_at = utcnow()
    audit.record("user.login", user, school_id=user.school_id, actor=user)
    db.session.commit()
    return redirect(safe_next(target, url_for("school.dashboard")))


def _elsewhere(state: State):
    return redirect(url_for(login_flow.NEXT_STEP[state]))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def login():
    state, _user = login_flow.current()
    if not login_flow.may(state, Step.password):
        return _elsewhere(state)
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        db.session.commit()  # failures are counted even when refused
        following = login_flow.after_password(user) if user is not None else None
        if user is None:
            _generic_failure()
        elif following is None:
            # The password was right: saying why it is not enough tells nothing new.
            flash(
                _(
                    "Your account needs a new authenticator app. Ask your administrator to reset"
                    " your two-factor log-in."
                ),
                "error",
            )
        elif following == State.logged_in:
            return _finish_login(user, request.args.get("next"))
        else:
            login_flow.begin(user, request.args.get("next"))
            return redirect(url_for(login_flow.NEXT_STEP[following]))
    return render_template("school/login.html", form=form)


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def login_code():
    state, user = login_flow.current()
    if not login_flow.may(state, Step.code):
        return _elsewhere(state)
    form = CodeForm()
    if form.validate_on_submit():
        if security.verify_second_factor(user, form.code.data):
            return _finish_login(user, session.get("pending_next"))
        lockout.record_failure(user)
        db.session.commit()
        _wrong_code(form)
    return render_template("school/login_code.html", form=form)


@bp.route("/login/two-factor", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def two_factor_setup():
    """Link an authenticator: a first one right after the password (``enrolment_due``), or
    from one's account, where replacing one needs a code of the current one."""
    state, user = login_flow.current()
    if not login_flow.may(state, Step.authenticator):
        return _elsewhere(state)
    needs_current = login_flow.replacing_needs_current_factor(state, user)
    secret = session.get("setup_secret")
    if not secret or session.get("setup_user") != user.id:
        secret = security.new_totp_secret()
        session["setup_secret"], session["setup_user"] = secret, user.id
    form = TwoFactorSetupForm()
    if form.validate_on_submit():
        step = security.check_totp(secret, form.code.data, None)
        if needs_current and not (
            lockout.may_try(user) and security.verify_second_factor(user, form.current.data or "")
        ):
            lockout.record_failure(user)
            form.current.errors.append(_("This is not a code of your current authenticator."))
        elif step is None:
            _wrong_code(form)
        else:
            replaced = user.has_two_factor
            codes = security.enable_two_factor(user, secret, step)
            session.pop("setup_secret", None)
            session.pop("setup_user", None)
            audit.record(
                "user.two_factor_enabled",
                user,
                school_id=user.school_id,
                actor=user,
                replaced=replaced,
            )
            if state == State.logged_in:
                db.session.commit()
            else:
                _finish_login(user, session.get("pending_next"))
            return render_template("school/recovery_codes.html", codes=codes)
    uri = security.provisioning_uri(user, secret)
    qr = Markup(segno.make(uri, error="m").svg_inline(scale=4, title="QR"))  # noqa: S704 - segno's own SVG
    return render_template(
        "school/two_factor_setup.html",
        form=form,
        qr=qr,
        secret=secret,
        needs_current=needs_current,
    )


@bp.route("/account/security", methods=["GET", "POST"])
@login_required
def account_security():
    form = CurrentFactorForm()
    if form.validate_on_submit():
        action = request.form.get("action")
        # Like replacing the authenticator (``two_factor_setup``): a session alone is not enough.
        user = current_user._get_current_object()
        if not (
            user.has_two_factor
            and lockout.may_try(user)
            and security.verify_second_factor(user, form.current.data or "")
        ):
            if user.has_two_factor:
                lockout.record_failure(user)
            db.session.commit()
            form.current.errors.append(_("This is not a code of your current authenticator."))
        elif action == "recovery":
            codes = security.new_recovery_codes(current_user)
            audit.record(
                "user.recovery_codes",
                current_user,
                school_id=current_user.school_id,
                actor=current_user,
            )
            db.session.commit()
            return render_template("school/recovery_codes.html", codes=codes)
        elif action == "disable" and not security.two_factor_required(current_user):
            security.disable_two_factor(current_user)
            audit.record(
                "user.two_factor_disabled",
                current_user,
                school_id=current_user.school_id,
                actor=current_user,
            )
            db.session.commit()
            flash(_("Two-factor log-in is off."), "info")
            return redirect(url_for("school.account_security"))
    return render_template(
        "school/account_security.html",
        form=form,
        required=security.two_factor_required(current_user),
        unused=sum(1 for code in current_user.recovery_codes if code.used_at is None),
    )


@bp.post("/logout")
@login_required
def logout():
    """Ends every session of the account, not only this browser's: a session cookie copied
    from this computer (a shared one in a staff room, say) stops working too."""
    locale = session.get("locale")
    current_user.end_sessions()
    db.session.commit()
    logout_user()
    session.clear()
    if locale:
        session["locale"] = locale
    flash(_("You have logged out here and on every other device."), "info")
    return redirect(url_for("core.home"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        problem = security.password_problem(form.new.data, current_user.email)
        if not services.check_password(current_user, form.current.data):
            form.current.errors.append(_("The current password is not right."))
        elif problem:
            form.new.errors.append(problem)
        else:
            services.set_password(current_user, form.new.data)
            audit.record("user.change_password", current_user, school_id=current_user.school_id)
            db.session.commit()
            # The nonce changed: log in again in this browser only.
            login_user(current_user._get_current_object())
            flash(_("Your password has been changed. Other sessions were logged out."), "success")
            return redirect(url_for("school.dashboard"))
    return render_template("school/password.html", form=form)


@bp.before_app_request
def end_idle_sessions():
    """Staff sessions end after a while without activity (default 30 minutes)."""
    if request.endpoint == "static" or not current_user.is_authenticated:
        return None
    idle = 60 * current_app.config["STAFF_IDLE_MINUTES"]
    now = time.time()
    if now - session.get("seen", now) > idle:
        locale = session.get("locale")
        logout_user()
        session.clear()
        if locale:
            session["locale"] = locale
        flash(_("You were logged out after a while without activity."), "info")
        return redirect(url_for("school.login", next=request.full_path.rstrip("?")))
    session["seen"] = now
    return None
