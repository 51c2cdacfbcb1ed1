"""Staff accounts: the list, a new account, changes, password and two-factor resets, and the
confirmation of counselor and platform administrator accounts by a second person."""

from __future__ import annotations

from functools import wraps

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core import audit
from core.collation import collated
from core.errors import render_error
from core.mail import deliver
from extensions import db
from school import security, services
from school.access import first_or_404, permission_required, school_scope
from school.forms import ResetPasswordForm, ResetTwoFactorForm, SimpleForm, StaffForm
from school.models import (
    CONFIRMED_ROLES,
    AuthorizedBody,
    Permission,
    Region,
    Role,
    School,
    User,
)
from school.views import NONE, bp

# --- staff accounts ---------------------------------------------------------------------------


def assignable_roles(actor: User) -> list[Role]:
    if actor.can(Permission.manage_platform):
        return list(Role)
    return [Role.school_admin, Role.counselor, Role.teacher]


def may_manage(actor: User, user: User) -> bool:
    if actor.can(Permission.manage_platform):
        return True
    return user.school_id == actor.school_id and user.role.is_school_role


def fill_staff_choices(form: StaffForm, actor: User) -> None:
    form.role.choices = [(role.value, role.title) for role in assignable_roles(actor)]
    if actor.can(Permission.manage_platform):
        schools = collated(db.session.scalars(select(School)), key=lambda s: s.name)
        form.school_id.choices = [(NONE, "—")] + [(s.id, s.name) for s in schools]
        regions = collated(db.session.scalars(select(Region)), key=lambda r: r.name)
        form.region_id.choices = [(NONE, _("Whole country"))] + [(r.id, r.name) for r in regions]
        bodies = db.session.scalars(select(AuthorizedBody).order_by(AuthorizedBody.id))
        form.body_id.choices = [(NONE, "—")] + [(b.id, b.name) for b in bodies]
    else:
        for field in (form.school_id, form.region_id, form.body_id):
            field.choices = [(NONE, "—")]


def staff_scope_errors(form: StaffForm, actor: User, role: Role) -> bool:
    """Check that the chosen role has its scope; returns True when all is well."""
    if not actor.can(Permission.manage_platform):
        return True
    if role.is_school_role and form.school_id.data == NONE:
        form.school_id.errors.append(_("Choose the school of this account."))
    if role.is_body_role and form.body_id.data == NONE:
        form.body_id.errors.append(_("Choose the authorized body of this account."))
    return not (form.school_id.errors or form.body_id.errors)


@bp.get("/staff/accounts")
@permission_required(Permission.manage_school)
def staff_list():
    stmt = (
        select(User)
        .where(school_scope(current_user, User.school_id))
        .order_by(User.role, User.full_name)
    )
    return render_template("school/staff_list.html", users=db.session.scalars(stmt).all())


def confirmed_manager_required(view):
    """Account changes that give rights (a new account, a role, an address, a password, an
    authenticator): not by a platform administrator waiting for confirmation, else one
    administrator could make a second administrator account and, with it, a third."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_user.awaits_confirmation:
            return render_error(
                403,
                _("Your account is waiting for confirmation"),
                _(
                    "A new platform administrator makes and changes accounts once another"
                    " platform administrator has confirmed the account. They have been told by"
                    " e-mail: ask one of them to confirm it."
                ),
            )
        return view(*args, **kwargs)

    return wrapped


@bp.route("/staff/accounts/new", methods=["GET", "POST"])
@permission_required(Permission.manage_school)
@confirmed_manager_required
def staff_new():
    form = StaffForm()
    fill_staff_choices(form, current_user)
    if form.validate_on_submit():
        role = Role(form.role.data)
        if services.email_taken(form.email.data):
            form.email.errors.append(_("An account with this e-mail already exists."))
        elif staff_scope_errors(form, current_user, role):
            password = services.temporary_password()
            school = (
                current_user.school
                if not current_user.can(Permission.manage_platform)
                else db.session.get(School, form.school_id.data)
            )
            user = services.create_user(
                email=form.email.data,
                full_name=form.full_name.data,
                role=role,
                password=password,
                school=school,
                region=db.session.get(Region, form.region_id.data or -1),
                body=db.session.get(AuthorizedBody, form.body_id.data or -1),
                locale=form.locale.data,
                by=current_user,
            )
            db.session.commit()
            deliver()
            return render_template("school/password_shown.html", user=user, password=password)
    return render_template("school/staff_form.html", form=form, user=None)


def managed_user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or not may_manage(current_user, user):
        abort(404)
    return user


@bp.route("/staff/accounts/<int:user_id>", methods=["GET", "POST"])
@permission_required(Permission.manage_school)
@confirmed_manager_required
def staff_edit(user_id: int):
    user = managed_user_or_404(user_id)
    form = StaffForm(obj=user)
    fill_staff_choices(form, current_user)
    if request.method == "GET":
        form.role.data = user.role.value
        form.school_id.data = user.school_id or NONE
        form.region_id.data = user.region_id or NONE
        form.body_id.data = user.body_id or NONE
    if form.validate_on_submit():
        role = Role(form.role.data)
        if services.email_taken(form.email.data, except_id=user.id):
            form.email.errors.append(_("An account with this e-mail already exists."))
        elif user.id == current_user.id and (role != user.role or not form.active.data):
            flash(_("You cannot change your own role or deactivate yourself."), "error")
        elif staff_scope_errors(form, current_user, role):
            changes = {
                "full_name": form.full_name.data.strip(),
                "email": services.normalize_email(form.email.data),
                "role": role,
                "locale": form.locale.data,
                "active": form.active.data,
            }
            if current_user.can(Permission.manage_platform):
                changes.update(
                    school_id=form.school_id.data if role.is_school_role else None,
                    region_id=(form.region_id.data or None) if role.is_regional else None,
                    body_id=form.body_id.data if role.is_body_role else None,
                )
            services.update_user(user, by=current_user, **changes)
            db.session.commit()
            deliver()
            flash(_("Saved."), "success")
            return redirect(url_for("school.staff_list"))
    return render_template(
        "school/staff_form.html",
        form=form,
        user=user,
        reset_form=ResetPasswordForm(),
        two_factor_form=ResetTwoFactorForm(),
    )


@bp.post("/staff/accounts/<int:user_id>/reset-password")
@permission_required(Permission.manage_school)
@confirmed_manager_required
def staff_reset_password(user_id: int):
    user = managed_user_or_404(user_id)
    form = ResetPasswordForm()
    if not form.validate_on_submit():
        abort(400)
    password = services.reset_password(user, by=current_user)
    db.session.commit()
    deliver()
    return render_template("school/password_shown.html", user=user, password=password)


@bp.post("/staff/accounts/<int:user_id>/reset-two-factor")
@permission_required(Permission.manage_school)
@confirmed_manager_required
def staff_reset_two_factor(user_id: int):
    """A lost phone: the account's authenticator and recovery codes go, its sessions end, and
    its next log-in links a new authenticator (``school.login_flow``). Not one's own: that
    would replace one's authenticator without it."""
    user = managed_user_or_404(user_id)
    form = ResetTwoFactorForm()
    if not form.validate_on_submit():
        abort(400)
    if user.id == current_user.id:
        flash(_("Another administrator must reset your own two-factor log-in."), "error")
    elif not user.has_two_factor:
        flash(_("This account has no authenticator app linked."), "info")
    else:
        security.reset_two_factor(user)
        audit.record("user.two_factor_reset", user, school_id=user.school_id)
        db.session.commit()
        flash(
            _("Two-factor log-in has been reset. The person links a new app at the next log-in."),
            "success",
        )
    return redirect(url_for("school.staff_edit", user_id=user.id))


# --- counselors waiting for a second person's confirmation ----------------------------------


def awaiting_confirmation():
    """Counselor accounts of the user's scope that read no case yet, and (for a platform
    administrator) administrator accounts not confirmed yet."""
    return (
        select(User)
        .where(
            User.role.in_(list(CONFIRMED_ROLES)),
            User.case_access_confirmed_at.is_(None),
            User.active.is_(True),
            school_scope(current_user, User.school_id),
        )
        .order_by(User.created_at, User.id)
    )


@bp.get("/staff/confirmations")
@permission_required(Permission.confirm_accounts)
def confirmations():
    users = db.session.scalars(awaiting_confirmation()).all()
    return render_template(
        "school/confirmations.html",
        users=users,
        may_confirm={user.id: services.may_confirm(current_user, user) for user in users},
        form=SimpleForm(),
    )


@bp.post("/staff/confirmations/<int:user_id>")
@permission_required(Permission.confirm_accounts)
def confirm(user_id: int):
    user = first_or_404(awaiting_confirmation().where(User.id == user_id))
    if not SimpleForm().validate_on_submit():
        abort(400)
    if not services.may_confirm(current_user, user):
        abort(403)
    services.confirm_case_access(user, by=current_user)
    db.session.commit()
    if user.can(Permission.manage_platform):
        flash(
            _("%(name)s is now a confirmed platform administrator.", name=user.full_name), "success"
        )
    else:
        flash(_("%(name)s now reads the cases of the school.", name=user.full_name), "success")
    return redirect(url_for("school.confirmations"))
