"""Log-in, log-out and passwords."""

from sqlalchemy import select

from core.audit import AuditEntry
from extensions import db
from school.models import Role
from tests import factories


def test_user_logs_in_and_reaches_the_staff_home(client, login):
    user = factories.user(Role.counselor, full_name="Гүлнар Әбенова")
    response = login(user)
    assert response.status_code == 200
    assert "Гүлнар Әбенова" in response.get_data(as_text=True)
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert "user.login" in actions


def test_wrong_password_and_unknown_email_get_the_same_message(client):
    factories.user(Role.teacher, email="known@example.kz")
    wrong = client.post("/login", data={"email": "known@example.kz", "password": "nope-nope-nope"})
    unknown = client.post(
        "/login", data={"email": "nobody@example.kz", "password": "nope-nope-nope"}
    )
    assert wrong.status_code == unknown.status_code == 200

    def message(response):
        html = response.get_data(as_text=True)
        return html[html.index('class="flash') : html.index("</p>", html.index('class="flash'))]

    assert message(wrong) == message(unknown)
    # The page is Kazakh by default.
    assert "құпиясөз" in message(wrong).lower()


def test_deactivated_account_cannot_log_in(client, login):
    user = factories.user(Role.teacher)
    user.active = False
    db.session.commit()
    response = login(user)
    assert "/staff" not in response.request.path
    assert client.get("/staff").status_code == 302


def test_logout_ends_the_session(client, login):
    login(factories.user(Role.teacher))
    assert client.get("/staff").status_code == 200
    client.post("/logout")
    assert client.get("/staff").status_code == 302


def test_password_change_ends_other_sessions(app, login):
    user = factories.user(Role.teacher)
    other = app.test_client()
    login(user, using=other)
    assert other.get("/staff").status_code == 200

    this = app.test_client()
    login(user, using=this)
    response = this.post(
        "/account/password",
        data={
            "current": factories.PASSWORD,
            "new": "a much longer pass",
            "confirm": "a much longer pass",
        },
    )
    assert response.status_code == 302
    assert this.get("/staff").status_code == 200
    assert other.get("/staff").status_code == 302
    fresh = app.test_client()
    login(user, password="a much longer pass", using=fresh)
    assert fresh.get("/staff").status_code == 200


def test_logging_out_ends_every_session_and_a_copied_cookie_with_it(app, login):
    user = factories.user(Role.teacher)
    this, phone = app.test_client(), app.test_client()
    login(user, using=this)
    login(user, using=phone)
    copied = app.test_client()
    copied.set_cookie("qamqor", this.get_cookie("qamqor").value)
    assert copied.get("/staff").status_code == 200  # a copy works while the session lives
    response = this.post("/logout")
    assert response.status_code == 302
    for client in (this, copied, phone):
        assert client.get("/staff").status_code == 302  # to the log-in page
    again = app.test_client()
    login(user, using=again)
    assert again.get("/staff").status_code == 200


def test_password_change_refuses_short_or_mismatched_passwords(client, login):
    user = factories.user(Role.counselor)
    login(user)
    old_hash = user.password_hash
    response = client.post(
        "/account/password",
        data={"current": factories.PASSWORD, "new": "short", "confirm": "short"},
    )
    assert response.status_code == 200
    assert "10" in response.get_data(as_text=True)
    response = client.post(
        "/account/password",
        data={"current": factories.PASSWORD, "new": "long enough one", "confirm": "different one!"},
    )
    assert response.status_code == 200
    db.session.refresh(user)
    assert user.password_hash == old_hash


def test_next_parameter_cannot_leave_the_site(client):
    user = factories.user(Role.teacher)
    response = client.post(
        "/login?next=https://evil.example/",
        data={"email": user.email, "password": factories.PASSWORD},
    )
    assert response.headers["Location"] == "/staff"
