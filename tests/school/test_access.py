"""Every list and detail goes through the scope helper: school A never sees school B."""

import pytest
from sqlalchemy import select

from extensions import db
from school.access import school_scope, visible_schools
from school.models import Classroom, Role, User
from tests import factories


@pytest.fixture
def two_schools(app):
    a = factories.school("School A", region_code="KZ-71")
    b = factories.school("School B", region_code="KZ-75")
    return a, b


def test_school_admin_cannot_open_another_schools_class(client, login, two_schools):
    a, b = two_schools
    other_class = factories.classroom(b, 5, "Б")
    login(factories.user(Role.school_admin, a))
    response = client.get(f"/school/classes/{other_class.id}")
    assert response.status_code == 404
    assert "School B" not in response.get_data(as_text=True)


def test_school_admin_lists_only_their_staff(client, login, two_schools):
    a, b = two_schools
    factories.user(Role.teacher, a, full_name="Teacher of A")
    factories.user(Role.teacher, b, full_name="Teacher of B")
    login(factories.user(Role.school_admin, a))
    html = client.get("/staff/accounts").get_data(as_text=True)
    assert "Teacher of A" in html
    assert "Teacher of B" not in html


def test_school_admin_cannot_edit_another_schools_account(client, login, two_schools):
    a, b = two_schools
    stranger = factories.user(Role.teacher, b)
    login(factories.user(Role.school_admin, a))
    assert client.get(f"/staff/accounts/{stranger.id}").status_code == 404
    response = client.post(f"/staff/accounts/{stranger.id}/reset-password")
    assert response.status_code == 404


@pytest.mark.parametrize("role", [Role.counselor, Role.teacher, Role.analyst, Role.partner])
def test_other_roles_cannot_manage_accounts_or_classes(client, login, role, two_schools):
    a, _ = two_schools
    login(factories.user(role, a if role.is_school_role else None))
    for url in ("/staff/accounts", "/staff/accounts/new", "/school/classes", "/admin/schools"):
        assert client.get(url).status_code == 403, url


def test_anonymous_visitor_is_sent_to_log_in(client):
    for url in ("/staff", "/staff/accounts", "/admin/schools", "/school/classes"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


def test_scope_by_role(two_schools):
    a, b = two_schools
    factories.classroom(a, 1, "А")
    factories.classroom(b, 2, "А")
    region_analyst = factories.user(Role.analyst, region_=a.region)
    country_analyst = factories.user(Role.analyst)
    admin = factories.user(Role.admin)
    partner = factories.user(Role.partner)
    counselor = factories.user(Role.counselor, a)

    def schools(user):
        return {s.name for s in db.session.scalars(visible_schools(user))}

    def grades(user):
        stmt = select(Classroom.grade).where(school_scope(user, Classroom.school_id))
        return set(db.session.scalars(stmt))

    assert schools(region_analyst) == {"School A"}
    assert schools(country_analyst) == {"School A", "School B"}
    assert schools(admin) == {"School A", "School B"}
    assert schools(partner) == set()
    assert grades(counselor) == {1}
    assert grades(region_analyst) == {1}


def test_user_scope_is_enforced_by_the_database(app):
    """A counselor without a school cannot even be stored."""
    from sqlalchemy.exc import IntegrityError

    db.session.add(
        User(email="x@example.kz", full_name="X", role=Role.counselor, password_hash="x")
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
