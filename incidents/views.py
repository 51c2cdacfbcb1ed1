"""Views of `incidents`; the features land with their issues."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("incidents", __name__, template_folder="templates")
