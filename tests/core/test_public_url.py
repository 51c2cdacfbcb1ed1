"""Links that leave the request (e-mails, posters, letters, certificates, survey slips) are made
from the configured address only, never from the Host header a client sends; requests for
another host are refused, and a production app does not start without the address."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app import create_app
from core.mail import OutgoingMail
from core.public_url import DEV_PUBLIC_URL, external_url
from extensions import db
from school.models import Role
from tests import factories
from tests.conftest import PASSWORD, RequestClient, _clean, totp_code
from tests.incidents.factories import form_data

EVIL = "evil.example"


def _app(_schema, tmp_path, **config):
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": _schema,
            "SECRET_KEY": "test",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            **config,
        }
    )
    app.test_client_class = RequestClient
    return app


@pytest.fixture
def bare_app(_schema, tmp_path):
    """A development app on which no address was configured (the default is used)."""
    app = _app(_schema, tmp_path, PUBLIC_URL="")
    with app.app_context():
        yield app
    _clean(app)


@pytest.fixture
def configured_app(_schema, tmp_path):
    """An app with its address, and one more host it may be reached by (``TRUSTED_HOSTS``)."""
    app = _app(
        _schema,
        tmp_path,
        PUBLIC_URL="https://qamqor.example.kz/",
        TRUSTED_HOSTS="localhost",
    )
    with app.app_context():
        yield app
    _clean(app)


def _outbox() -> list[str]:
    return [mail.body for mail in db.session.scalars(select(OutgoingMail))]


@pytest.mark.parametrize("host", [EVIL, f"{EVIL}:5000", f"localhost.{EVIL}"])
def test_a_report_sent_with_a_forged_host_is_refused_and_queues_no_link_to_it(
    bare_app, caplog, host
):
    school = factories.school()
    factories.user(Role.counselor, school)
    client = bare_app.test_client()
    response = client.post(f"/r/{school.code}", data=form_data(), headers={"Host": host})
    assert response.status_code == 400
    assert EVIL not in caplog.text
    assert all(EVIL not in body for body in _outbox())
    # The same report through the expected host: the notice links to the default address.
    assert client.post(f"/r/{school.code}", data=form_data()).status_code == 200
    [body] = _outbox()
    assert f"{DEV_PUBLIC_URL}/staff/inbox" in body and EVIL not in body


def test_a_forged_host_gets_a_plain_400_before_any_other_check(_schema, tmp_path):
    """CSRF on, as in production: the host is refused before the form is looked at."""
    app = _app(_schema, tmp_path, TESTING=False, WTF_CSRF_ENABLED=True)
    with app.app_context():
        client = app.test_client()
        for method in ("GET", "POST"):
            response = client.open("/r/exit", method=method, headers={"Host": EVIL})
            assert response.status_code == 400
            assert response.headers["X-Frame-Options"] == "DENY"
            assert EVIL not in response.get_data(as_text=True)
        assert client.get("/r/exit").status_code == 200
        _clean(app)


def test_notices_link_to_the_configured_address_whatever_host_was_used(configured_app, caplog):
    school = factories.school()
    factories.user(Role.counselor, school)
    client = configured_app.test_client()
    assert client.post(f"/r/{school.code}", data=form_data()).status_code == 200  # localhost
    refused = client.post(f"/r/{school.code}", data=form_data(), headers={"Host": EVIL})
    assert refused.status_code == 400
    [body] = _outbox()
    assert "https://qamqor.example.kz/staff/inbox" in body
    assert "http://localhost" not in body and EVIL not in caplog.text


def test_the_poster_prints_the_configured_address_and_a_forged_host_is_refused(configured_app):
    school = factories.school()
    counselor = factories.user(Role.counselor, school)
    client = configured_app.test_client()
    response = client.post("/login", data={"email": counselor.email, "password": PASSWORD})
    if "/login/code" in response.headers.get("Location", ""):
        client.post("/login/code", data={"code": totp_code(counselor)})
    page = client.get("/school/poster").get_data(as_text=True)
    assert f"https://qamqor.example.kz/r/{school.code}" in page and "localhost" not in page
    assert client.get("/school/poster", headers={"Host": EVIL}).status_code == 400


def test_links_are_made_outside_a_request_too(configured_app):
    assert external_url("cases.inbox") == "https://qamqor.example.kz/staff/inbox"
    with configured_app.test_request_context(base_url=f"http://{EVIL}"):
        assert external_url("cases.inbox") == "https://qamqor.example.kz/staff/inbox"


def test_a_production_app_does_not_start_without_its_address(tmp_path):
    config = {
        "SQLALCHEMY_DATABASE_URI": "sqlite://",
        "SECRET_KEY": "x",
        "INSTANCE_PATH": str(tmp_path),
        "PUBLIC_URL": "",
    }
    with pytest.raises(RuntimeError, match="QAMQOR_PUBLIC_URL"):
        create_app(config)
    with pytest.raises(RuntimeError, match="QAMQOR_PUBLIC_URL"):
        create_app({**config, "PUBLIC_URL": "qamqor.example.kz"})  # no scheme
    app = create_app({**config, "PUBLIC_URL": "https://qamqor.example.kz"})
    assert app.config["TRUSTED_HOSTS"] == ["qamqor.example.kz"]
