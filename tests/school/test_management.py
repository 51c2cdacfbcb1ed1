"""School admins manage their staff and classes; admins manage schools, regions and bodies."""

import re

from sqlalchemy import func, select

from extensions import db
from school.models import Classroom, Region, Role, School, User
from tests import factories


def test_school_admin_creates_a_teacher_who_can_log_in(app, client, login):
    admin = factories.user(Role.school_admin)
    login(admin)
    response = client.post(
        "/staff/accounts/new",
        data={
            "full_name": "Данияр Сейітов",
            "email": "Daniyar@Example.kz",
            "role": "teacher",
            "locale": "ru",
        },
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    created = db.session.scalar(select(User).where(User.email == "daniyar@example.kz"))
    assert created.school_id == admin.school_id and created.role == Role.teacher
    start = html.index("<code>") + len("<code>")
    password = html[start : html.index("</code>")]
    fresh = app.test_client()
    fresh.post("/login", data={"email": "daniyar@example.kz", "password": password})
    # The password is temporary: the first page is the one that changes it.
    assert fresh.get("/staff").headers["Location"].endswith("/account/password")
    assert fresh.get("/account/password").status_code == 200


def test_school_admin_cannot_create_an_analyst_or_admin(client, login):
    login(factories.user(Role.school_admin))
    before = db.session.scalar(select(func.count(User.id)))
    response = client.post(
        "/staff/accounts/new",
        data={"full_name": "X", "email": "x@example.kz", "role": "admin", "locale": "kk"},
    )
    assert response.status_code == 200
    assert db.session.scalar(select(func.count(User.id))) == before


def test_invalid_account_form_shows_localized_errors_and_saves_nothing(client, login):
    login(factories.user(Role.school_admin))
    before = db.session.scalar(select(func.count(User.id)))
    response = client.post(
        "/staff/accounts/new",
        data={"full_name": "Асель", "email": "not-an-email", "role": "teacher", "locale": "kk"},
        headers={"Accept-Language": "ru"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Асель" in html  # what was typed stays on the page
    assert "электронной почты" in html  # the Russian message for a bad e-mail
    assert db.session.scalar(select(func.count(User.id))) == before


def test_duplicate_email_is_refused(client, login):
    factories.user(Role.teacher, email="taken@example.kz")
    login(factories.user(Role.school_admin))
    response = client.post(
        "/staff/accounts/new",
        data={"full_name": "Y", "email": "TAKEN@example.kz", "role": "teacher", "locale": "kk"},
    )
    assert response.status_code == 200
    assert (
        db.session.scalar(select(func.count(User.id)).where(User.email == "taken@example.kz")) == 1
    )


def test_school_admin_adds_a_class_and_a_duplicate_is_refused(client, login):
    admin = factories.user(Role.school_admin)
    teacher = factories.user(Role.teacher, admin.school)
    login(admin)
    data = {
        "grade": "6",
        "letter": "ә",
        "language": "kk",
        "homeroom_teacher_id": str(teacher.id),
        "teacher_ids": [str(teacher.id)],
    }
    assert client.post("/school/classes/new", data=data).status_code == 302
    classroom = db.session.scalar(select(Classroom))
    assert (classroom.grade, classroom.letter, classroom.homeroom_teacher_id) == (
        6,
        "Ә",
        teacher.id,
    )
    assert [t.id for t in classroom.teachers] == [teacher.id]
    response = client.post("/school/classes/new", data=data)
    assert response.status_code == 200
    assert db.session.scalar(select(func.count(Classroom.id))) == 1


def test_class_grade_out_of_range_is_refused(client, login):
    login(factories.user(Role.school_admin))
    response = client.post(
        "/school/classes/new", data={"grade": "12", "letter": "А", "language": "kk"}
    )
    assert response.status_code == 200
    assert "11" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Classroom.id))) == 0


def test_admin_adds_a_school_with_a_public_code(client, login):
    login(factories.user(Role.admin))
    region = factories.region("KZ-43")
    response = client.post(
        "/admin/schools/new",
        data={
            "name": "Қызылорда № 7 мектебі",
            "region_id": str(region.id),
            "languages": ["kk", "ru"],
        },
    )
    assert response.status_code == 302
    school = db.session.scalar(select(School).where(School.name == "Қызылорда № 7 мектебі"))
    assert school.region.iso_code == "KZ-43"
    assert school.languages == "kk,ru"
    assert len(school.code) == 6


def test_a_school_carries_its_russian_name_and_the_admin_can_change_it(client, login):
    """Issue 20: the Russian name next to the Kazakh one, set in the admin form and kept."""
    login(factories.user(Role.admin))
    region = factories.region("KZ-43")
    response = client.post(
        "/admin/schools/new",
        data={
            "name": "Қызылорда № 8 мектебі",
            "name_ru": "  Школа № 8 города Кызылорда ",
            "region_id": str(region.id),
            "languages": ["kk", "ru"],
        },
    )
    assert response.status_code == 302
    school = db.session.scalar(select(School).where(School.name == "Қызылорда № 8 мектебі"))
    assert school.name_ru == "Школа № 8 города Кызылорда"
    page = client.get(f"/admin/schools/{school.id}").get_data(as_text=True)
    assert 'value="Школа № 8 города Кызылорда"' in page
    client.post(
        f"/admin/schools/{school.id}",
        data={
            "name": school.name,
            "name_ru": "",
            "region_id": str(region.id),
            "languages": ["kk"],
        },
    )
    db.session.refresh(school)
    assert school.name_ru == ""


def test_the_admin_list_of_schools_is_in_the_kazakh_alphabets_order(client, login):
    """Issue 20: SQL's order put «Атырау» before «Ақмола» and the Kazakh letters after Я."""
    login(factories.user(Role.admin))
    for name in ("Ұлан мектебі", "Атырау мектебі", "Шұғыла мектебі", "Ақмола мектебі"):
        factories.school(name)
    client.get("/lang/kk")
    page = client.get("/admin/schools?q=мектебі").get_data(as_text=True)
    shown = re.findall(r">([^<>]+ мектебі)<", page)
    assert shown == ["Ақмола мектебі", "Атырау мектебі", "Ұлан мектебі", "Шұғыла мектебі"]


def test_admin_creates_a_regional_analyst_and_a_partner(client, login):
    login(factories.user(Role.admin))
    region = factories.region("KZ-47")
    body = factories.body()
    client.post(
        "/staff/accounts/new",
        data={
            "full_name": "A",
            "email": "analyst@example.kz",
            "role": "analyst",
            "region_id": str(region.id),
            "school_id": "0",
            "body_id": "0",
            "locale": "ru",
        },
    )
    client.post(
        "/staff/accounts/new",
        data={
            "full_name": "P",
            "email": "partner@example.kz",
            "role": "partner",
            "region_id": "0",
            "school_id": "0",
            "body_id": str(body.id),
            "locale": "kk",
        },
    )
    analyst = db.session.scalar(select(User).where(User.email == "analyst@example.kz"))
    partner = db.session.scalar(select(User).where(User.email == "partner@example.kz"))
    assert analyst.region_id == region.id and analyst.school_id is None
    assert partner.body_id == body.id


def test_admin_edits_a_region_name(client, login):
    login(factories.user(Role.admin))
    region = factories.region("KZ-10")
    response = client.post(
        f"/admin/regions/{region.id}",
        data={"name_kk": "Абай облысы", "name_ru": "Абайская область", "name_en": "Abai Region"},
    )
    assert response.status_code == 302
    assert db.session.get(Region, region.id).name_ru == "Абайская область"
