"""The public front door."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

bp = Blueprint("core", __name__)


@bp.get("/")
def home():
    if current_user.is_authenticated:
        return redirect(url_for("school.dashboard"))
    return render_template("home.html")


@bp.get("/healthz")
def health():
    return {"status": "ok"}
