"""The staff home's tiles and attention lines belong to each app, not to the process: two apps
made in one process (tests, a worker re-made) neither share nor repeat them."""

from __future__ import annotations

from collections import Counter

from app import create_app
from school.models import Role
from school.views import register_dashboard_attention, register_dashboard_link
from tests import factories


def _app(app, tmp_path, name):
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "SECRET_KEY": "test",
            "INSTANCE_PATH": str(tmp_path / name),
        }
    )


def test_two_apps_in_one_process_have_their_own_links_each_once(app, tmp_path):
    first, second = _app(app, tmp_path, "first"), _app(app, tmp_path, "second")
    links = first.extensions["qamqor_dashboard"]["links"]
    endpoints = [endpoint for endpoint, *_ in links]
    assert Counter(endpoints).most_common(1)[0][1] == 1, "a link is listed twice"
    assert {"cases.inbox", "curriculum.library", "insights.dashboard"} <= set(endpoints)
    assert [e for e, *_ in second.extensions["qamqor_dashboard"]["links"]] == endpoints
    assert links is not second.extensions["qamqor_dashboard"]["links"]

    # What one app adds, the other does not show.
    register_dashboard_link(first, "school.dashboard", "Only in the first", Role.admin)
    register_dashboard_attention(first, lambda user: [])
    assert "Only in the first" not in [
        t for _e, t, *_ in second.extensions["qamqor_dashboard"]["links"]
    ]
    assert len(second.extensions["qamqor_dashboard"]["attention"]) == 1


def test_the_staff_home_shows_each_tile_once(app, client, login):
    """The app of the fixture is not the first made in this process (the schema's was)."""
    counselor = factories.user(Role.counselor)
    login(counselor)
    page = client.get("/staff").get_data(as_text=True)
    assert page.count('href="/staff/inbox"') == 1
