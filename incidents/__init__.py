"""Report and respond: anonymous reports, cases, referrals to authorized bodies."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from incidents import models, views  # noqa: F401 - models register their tables

    app.register_blueprint(views.bp)
