"""Prevention: the psychosocial-skills lesson library, lesson delivery and the staff course."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from curriculum import views

    app.register_blueprint(views.bp)
