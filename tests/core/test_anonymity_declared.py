"""Anonymity is declared once, where a blueprint is made (core.anonymity, issue 15): the
declaration alone makes its pages and its refused or unknown addresses anonymous and quiet, and
an app whose anonymous blueprint serves an address outside its declared paths does not start."""

from __future__ import annotations

import pytest
from flask import Flask

from core import anonymity, security
from core.anonymity import anonymous_blueprint, is_quiet_path, quiet_paths


def small_app(blueprint) -> Flask:
    app = Flask(__name__)
    security.init_app(app)
    anonymity.init_app(app)
    app.register_blueprint(blueprint)
    anonymity.finish(app)
    return app


def test_a_declared_blueprint_is_anonymous_and_quiet_with_no_call_in_its_views():
    hidden = anonymous_blueprint("hidden", __name__, url_prefix="/hidden")
    hidden.add_url_rule("/page", "page", lambda: "a page that says nothing of itself")
    app = small_app(hidden)
    client = app.test_client()
    for path in ("/hidden/page", "/hidden/missing", "/hidden//./page", "/%68idden/page"):
        response = client.get(path)
        assert response.headers["Cache-Control"] == "no-store", path
        assert response.headers["Referrer-Policy"] == "no-referrer", path
    assert is_quiet_path("/hidden/page", app) and is_quiet_path("/%68idden/x", app)
    assert not is_quiet_path("/hiddenness", app) and not is_quiet_path("/staff", app)
    assert client.get("/elsewhere").headers.get("Referrer-Policy") != "no-referrer"


def test_an_address_outside_the_declared_paths_stops_the_app_at_start():
    leaky = anonymous_blueprint("leaky", __name__, paths=("/learn",))
    leaky.add_url_rule("/learn/x", "ok", lambda: "")
    leaky.add_url_rule("/staff/x", "outside", lambda: "")
    with pytest.raises(RuntimeError, match="/staff/x"):
        small_app(leaky)


def test_the_real_app_takes_its_quiet_paths_from_its_blueprints(app):
    paths = quiet_paths(app)
    assert set(paths.anonymous) == {"/r", "/s", "/learn", "/leaflets", "/verify"}
    assert "/lang" in paths.quiet and not paths.is_anonymous("/lang/kk")
