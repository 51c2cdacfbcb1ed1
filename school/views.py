"""Log-in, the staff home page, and the management of schools, classes and accounts."""

from __future__ import annotations

from dataclasses import replace
from functools import wraps

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from core import audit
from core.collation import collated
from core.errors import render_error
from core.mail import deliver
from core.paging import paginate_list
from extensions import db
from school import security, services
from school.access import (
    first_or_404,
    get_scoped_or_404,
    roles_required,
    school_scope,
    visible_schools,
)
from school.forms import (
    BodyForm,
    ClassroomForm,
    RegionForm,
    ResetPasswordForm,
    ResetTwoFactorForm,
    SchoolForm,
    SimpleForm,
    StaffForm,
)
from school.models import (
    CONFIRMED_ROLES,
    REGIONAL_ROLES,
    SCHOOL_ROLES,
    AuthorizedBody,
    BodyKind,
    Classroom,
    Region,
    Role,
    School,
    User,
)

bp = Blueprint("school", __name__, template_folder="templates")

NONE = 0  # the "none" choice of optional select fields


@bp.get("/staff")
@login_required
def dashboard():
    school = current_user.school
    stats = {}
    if current_user.role in (Role.school_admin, Role.admin):
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
    mine = [link for link in _dashboard(current_app)["links"] if role in link[2]]
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


# --- staff accounts ---------------------------------------------------------------------------

MANAGERS = (Role.admin, Role.school_admin)


def assignable_roles(actor: User) -> list[Role]:
    if actor.role == Role.admin:
        return list(Role)
    return [Role.school_admin, Role.counselor, Role.teacher]


def may_manage(actor: User, user: User) -> bool:
    if actor.role == Role.admin:
        return True
    return user.school_id == actor.school_id and user.role in SCHOOL_ROLES


def fill_staff_choices(form: StaffForm, actor: User) -> None:
    form.role.choices = [(role.value, role.title) for role in assignable_roles(actor)]
    if actor.role == Role.admin:
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
    if actor.role != Role.admin:
        return True
    if role.is_school_role and form.school_id.data == NONE:
        form.school_id.errors.append(_("Choose the school of this account."))
    if role == Role.partner and form.body_id.data == NONE:
        form.body_id.errors.append(_("Choose the authorized body of this account."))
    return not (form.school_id.errors or form.body_id.errors)


@bp.get("/staff/accounts")
@roles_required(*MANAGERS)
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
@roles_required(*MANAGERS)
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
                if current_user.role != Role.admin
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
@roles_required(*MANAGERS)
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
            if current_user.role == Role.admin:
                changes.update(
                    school_id=form.school_id.data if role.is_school_role else None,
                    region_id=(form.region_id.data or None) if role in REGIONAL_ROLES else None,
                    body_id=form.body_id.data if role == Role.partner else None,
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
@roles_required(*MANAGERS)
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
@roles_required(*MANAGERS)
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

CONFIRMERS = tuple(CONFIRMED_ROLES)


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
@roles_required(*CONFIRMERS)
def confirmations():
    users = db.session.scalars(awaiting_confirmation()).all()
    return render_template(
        "school/confirmations.html",
        users=users,
        may_confirm={user.id: services.may_confirm(current_user, user) for user in users},
        form=SimpleForm(),
    )


@bp.post("/staff/confirmations/<int:user_id>")
@roles_required(*CONFIRMERS)
def confirm(user_id: int):
    user = first_or_404(awaiting_confirmation().where(User.id == user_id))
    if not SimpleForm().validate_on_submit():
        abort(400)
    if not services.may_confirm(current_user, user):
        abort(403)
    services.confirm_case_access(user, by=current_user)
    db.session.commit()
    if user.role == Role.admin:
        flash(
            _("%(name)s is now a confirmed platform administrator.", name=user.full_name), "success"
        )
    else:
        flash(_("%(name)s now reads the cases of the school.", name=user.full_name), "success")
    return redirect(url_for("school.confirmations"))


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


# --- classes ----------------------------------------------------------------------------------


def fill_class_choices(form: ClassroomForm, school: School) -> None:
    teachers = db.session.scalars(
        select(User)
        .where(User.school_id == school.id, User.active.is_(True))
        .order_by(User.full_name)
    ).all()
    form.homeroom_teacher_id.choices = [(NONE, "—")] + [(t.id, t.full_name) for t in teachers]
    form.teacher_ids.choices = [(t.id, t.full_name) for t in teachers]


def managed_school() -> School:
    """The school a school admin manages; admins pick it with ?school=<id>."""
    if current_user.role == Role.admin:
        school_id = request.args.get("school", type=int)
        return get_scoped_or_404(School, school_id or 0, current_user, School.id)
    return current_user.school


@bp.get("/school/classes")
@roles_required(*MANAGERS)
def class_list():
    school = managed_school()
    classes = db.session.scalars(
        select(Classroom)
        .where(Classroom.school_id == school.id)
        .order_by(Classroom.grade, Classroom.letter)
    ).all()
    return render_template("school/class_list.html", school=school, classes=classes)


@bp.route("/school/classes/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def class_new():
    school = managed_school()
    return _class_form(school, None)


@bp.route("/school/classes/<int:class_id>", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def class_edit(class_id: int):
    classroom = get_scoped_or_404(Classroom, class_id, current_user)
    return _class_form(classroom.school, classroom)


def _class_form(school: School, classroom: Classroom | None):
    form = ClassroomForm(obj=classroom)
    fill_class_choices(form, school)
    if request.method == "GET" and classroom is not None:
        form.homeroom_teacher_id.data = classroom.homeroom_teacher_id or NONE
        form.teacher_ids.data = [t.id for t in classroom.teachers]
    if form.validate_on_submit():
        letter = form.letter.data.strip().upper()
        if services.classroom_exists(
            school, form.grade.data, letter, classroom.id if classroom else None
        ):
            form.letter.errors.append(_("This class already exists."))
        else:
            if classroom is None:
                classroom = Classroom(school=school)
                db.session.add(classroom)
            classroom.grade = form.grade.data
            classroom.letter = letter
            classroom.language = form.language.data
            classroom.students = form.students.data
            classroom.homeroom_teacher_id = form.homeroom_teacher_id.data or None
            classroom.teachers = list(
                db.session.scalars(
                    select(User).where(
                        User.id.in_(form.teacher_ids.data or []), User.school_id == school.id
                    )
                )
            )
            db.session.flush()
            audit.record("classroom.save", classroom, grade=classroom.grade, letter=letter)
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("school.class_list", school=school.id))
    return render_template("school/class_form.html", form=form, school=school, classroom=classroom)


# --- schools, regions and bodies (platform admin) ---------------------------------------------


@bp.get("/admin/schools")
@roles_required(Role.admin)
def school_list():
    region_id = request.args.get("region", type=int)
    query = (request.args.get("q") or "").strip()[:100]
    stmt = visible_schools(current_user)
    if region_id:
        stmt = stmt.where(School.region_id == region_id)
    if query:
        stmt = stmt.where(School.name.ilike(f"%{query}%"))
    regions = collated(db.session.scalars(select(Region)), key=lambda r: r.name)
    # The alphabet's order, which SQL cannot give: the names (a few thousand at most) are sorted
    # here, and only the page's schools are loaded.
    names = db.session.execute(stmt.with_only_columns(School.id, School.name)).all()
    page = paginate_list(collated(names, key=lambda row: row.name), request.args)
    loaded = {
        s.id: s
        for s in db.session.scalars(
            select(School).where(School.id.in_([row.id for row in page.items]))
        )
    }
    schools = replace(page, items=[loaded[row.id] for row in page.items])
    return render_template(
        "school/school_list.html",
        schools=schools,
        regions=regions,
        region_id=region_id,
        query=query,
    )


def fill_school_choices(form: SchoolForm) -> None:
    regions = collated(db.session.scalars(select(Region)), key=lambda r: r.name)
    form.region_id.choices = [(r.id, r.name) for r in regions]


@bp.route("/admin/schools/new", methods=["GET", "POST"])
@roles_required(Role.admin)
def school_new():
    form = SchoolForm()
    fill_school_choices(form)
    if form.validate_on_submit():
        school = services.create_school(
            region=db.session.get(Region, form.region_id.data),
            name=form.name.data,
            name_ru=(form.name_ru.data or "").strip(),
            languages=form.languages.data,
            address=(form.address.data or "").strip(),
            phone=(form.phone.data or "").strip(),
        )
        db.session.commit()
        flash(_("The school has been added."), "success")
        return redirect(url_for("school.school_edit", school_id=school.id))
    return render_template("school/school_form.html", form=form, school=None)


@bp.route("/admin/schools/<int:school_id>", methods=["GET", "POST"])
@roles_required(Role.admin)
def school_edit(school_id: int):
    school = get_scoped_or_404(School, school_id, current_user, School.id)
    form = SchoolForm(obj=school)
    fill_school_choices(form)
    if request.method == "GET":
        form.languages.data = school.language_list
    if form.validate_on_submit():
        school.name = form.name.data.strip()
        school.name_ru = (form.name_ru.data or "").strip()
        school.region_id = form.region_id.data
        school.languages = ",".join(form.languages.data)
        school.address = (form.address.data or "").strip()
        school.phone = (form.phone.data or "").strip()
        audit.record("school.update", school, school_id=school.id)
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("school.school_list"))
    return render_template("school/school_form.html", form=form, school=school)


@bp.get("/admin/regions")
@roles_required(Role.admin)
def region_list():
    regions = collated(db.session.scalars(select(Region)), key=lambda r: r.name)
    counts = dict(
        db.session.execute(select(School.region_id, func.count()).group_by(School.region_id)).all()
    )
    return render_template("school/region_list.html", regions=regions, counts=counts)


@bp.route("/admin/regions/<int:region_id>", methods=["GET", "POST"])
@roles_required(Role.admin)
def region_edit(region_id: int):
    region = db.get_or_404(Region, region_id)
    form = RegionForm(obj=region)
    if form.validate_on_submit():
        form.populate_obj(region)
        audit.record("region.update", region)
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("school.region_list"))
    return render_template("school/region_form.html", form=form, region=region)


@bp.get("/admin/bodies")
@roles_required(Role.admin)
def body_list():
    bodies = db.session.scalars(
        select(AuthorizedBody).order_by(AuthorizedBody.region_id, AuthorizedBody.kind)
    ).all()
    return render_template("school/body_list.html", bodies=bodies)


@bp.route("/admin/bodies/new", methods=["GET", "POST"], defaults={"body_id": None})
@bp.route("/admin/bodies/<int:body_id>", methods=["GET", "POST"])
@roles_required(Role.admin)
def body_edit(body_id: int | None):
    body = db.get_or_404(AuthorizedBody, body_id) if body_id else None
    form = BodyForm(obj=body)
    form.kind.choices = [(kind.value, kind.title) for kind in BodyKind]
    regions = collated(db.session.scalars(select(Region)), key=lambda r: r.name)
    form.region_id.choices = [(NONE, _("Whole country"))] + [(r.id, r.name) for r in regions]
    if request.method == "GET" and body is not None:
        form.kind.data = body.kind.value
        form.region_id.data = body.region_id or NONE
    if form.validate_on_submit():
        if body is None:
            body = AuthorizedBody()
            db.session.add(body)
        body.kind = BodyKind(form.kind.data)
        body.region_id = form.region_id.data or None
        for field in ("name_kk", "name_ru", "name_en", "email", "phone", "address"):
            setattr(body, field, (getattr(form, field).data or "").strip())
        db.session.flush()
        audit.record("body.save", body)
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("school.body_list"))
    return render_template("school/body_form.html", form=form, body=body)
