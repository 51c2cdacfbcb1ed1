"""The A4 poster each school hangs up: its report link as a QR code and in letters, the help
numbers, and the message that every form of violence counts. Printed in Kazakh or Russian."""

from __future__ import annotations

import segno
from markupsafe import Markup

from core.help import numbers
from core.public_url import external_url
from incidents.intake.forms import FORM_EXPLANATIONS
from school.models import School

POSTER_LANGUAGES = ("kk", "ru")
POSTER_NUMBERS = ("150", "111", "102")


def report_link(school: School) -> str:
    """The absolute link of the school's report form, on the configured ``PUBLIC_URL``."""
    return external_url("report.form", code=school.code)


def qr_svg(link: str) -> Markup:
    """The link as an inline SVG QR code (medium error correction survives a creased poster)."""
    code = segno.make(link, error="m", micro=False)
    # segno writes the SVG itself from the link; nothing from a user goes into the markup raw.
    return Markup(code.svg_inline(scale=4, border=2, omitsize=True))  # noqa: S704


def poster_context(school: School, language: str) -> dict:
    link = report_link(school)
    return {
        "school": school,
        "link": link,
        "qr": qr_svg(link),
        "help_lines": numbers(*POSTER_NUMBERS),
        "forms": list(FORM_EXPLANATIONS),
        "language": language,
    }
