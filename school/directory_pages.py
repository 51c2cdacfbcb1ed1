"""The directory's pages: a school's classes (its administrator, or the platform administrator
with ``?school=``), and the schools, regions and authorized bodies (the platform administrator)."""

from __future__ import annotations

from dataclasses import replace

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from core import audit
from core.collation import collated
from core.paging import paginate_list
from extensions import db
from school import services
from school.access import get_scoped_or_404, permission_required, visible_schools
from school.forms import BodyForm, ClassroomForm, RegionForm, SchoolForm
from school.models import AuthorizedBody, BodyKind, Classroom, Permission, Region, School, User
from school.views import NONE, bp

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
    if current_user.can(Permission.manage_platform):
        school_id = request.args.get("school", type=int)
        return get_scoped_or_404(School, school_id or 0, current_user, School.id)
    return current_user.school


@bp.get("/school/classes")
@permission_required(Permission.manage_school)
def class_list():
    school = managed_school()
    classes = db.session.scalars(
        select(Classroom)
        .where(Classroom.school_id == school.id)
        .order_by(Classroom.grade, Classroom.letter)
    ).all()
    return render_template("school/class_list.html", school=school, classes=classes)


@bp.route("/school/classes/new", methods=["GET", "POST"])
@permission_required(Permission.manage_school)
def class_new():
    school = managed_school()
    return _class_form(school, None)


@bp.route("/school/classes/<int:class_id>", methods=["GET", "POST"])
@permission_required(Permission.manage_school)
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
@permission_required(Permission.manage_platform)
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
@permission_required(Permission.manage_platform)
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
@permission_required(Permission.manage_platform)
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
@permission_required(Permission.manage_platform)
def region_list():
    regions = collated(db.session.scalars(select(Region)), key=lambda r: r.name)
    counts = dict(
        db.session.execute(select(School.region_id, func.count()).group_by(School.region_id)).all()
    )
    return render_template("school/region_list.html", regions=regions, counts=counts)


@bp.route("/admin/regions/<int:region_id>", methods=["GET", "POST"])
@permission_required(Permission.manage_platform)
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
@permission_required(Permission.manage_platform)
def body_list():
    bodies = db.session.scalars(
        select(AuthorizedBody).order_by(AuthorizedBody.region_id, AuthorizedBody.kind)
    ).all()
    return render_template("school/body_list.html", bodies=bodies)


@bp.route("/admin/bodies/new", methods=["GET", "POST"], defaults={"body_id": None})
@bp.route("/admin/bodies/<int:body_id>", methods=["GET", "POST"])
@permission_required(Permission.manage_platform)
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
