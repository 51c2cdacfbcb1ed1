"""Views of `curriculum`; the features land with their issues."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("curriculum", __name__, template_folder="templates")
