"""Regions as shipped data; the demo seed."""

import re

import pyotp
from sqlalchemy import func, select

from extensions import db
from school.models import Region, Role, User
from tests import factories


def test_load_regions_is_idempotent_and_complete(runner):
    first = runner.invoke(args=["load-regions"])
    second = runner.invoke(args=["load-regions"])
    assert "20 added" in first.output
    assert "0 added, 0 updated" in second.output
    regions = db.session.scalars(select(Region)).all()
    assert len(regions) == 20
    by_code = {r.iso_code: r for r in regions}
    # The three regions created in 2022 and the three cities of republican significance.
    assert by_code["KZ-10"].name_kk == "Абай облысы"
    assert by_code["KZ-33"].name_ru == "область Жетісу"
    assert by_code["KZ-62"].name_en == "Ulytau Region"
    assert {r.iso_code for r in regions if r.kind == "city"} == {"KZ-71", "KZ-75", "KZ-79"}


def test_seed_demo_is_idempotent_and_every_role_logs_in(app, runner):
    from school.cli import DEMO_ACCOUNTS, DEMO_PASSWORD

    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    assert db.session.scalar(select(func.count(User.id))) == len(DEMO_ACCOUNTS)
    roles = set(db.session.scalars(select(User.role)))
    assert roles == set(Role)
    for email, _name, role in DEMO_ACCOUNTS:
        client = app.test_client()
        response = client.post("/login", data={"email": email, "password": DEMO_PASSWORD})
        if role in factories.TWO_FACTOR_ROLES:
            # First log-in of an account that needs two factors: link an authenticator first.
            assert response.headers["Location"] == "/login/two-factor"
            assert client.get("/staff").status_code == 302
            page = client.get("/login/two-factor").get_data(as_text=True)
            secret = re.search(r'<code class="key">([A-Z2-7]+)</code>', page).group(1)
            response = client.post("/login/two-factor", data={"code": pyotp.TOTP(secret).now()})
            assert "recovery-codes" in response.get_data(as_text=True)
        assert client.get("/staff").status_code == 200, email
        assert email in first.output
