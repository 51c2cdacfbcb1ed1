"""The A4 poster each school hangs up: its report link as a QR code and in letters, the help
numbers, and the message that every form of violence counts. Printed in Kazakh or Russian."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

import segno
from markupsafe import Markup

from core.help import numbers
from core.public_url import external_url
from incidents.intake.forms import FORM_EXPLANATIONS
from incidents.intake.models import ViolenceForm
from school.models import School

POSTER_LANGUAGES = ("kk", "ru")
# 112 first: the one number every child should know.
POSTER_NUMBERS = ("112", "150", "111", "102")
# The forms of violence the poster names: "something else" is no form to name on a wall.
POSTER_FORMS = [form for form in FORM_EXPLANATIONS if form != ViolenceForm.other]


def report_link(school: School) -> str:
    """The absolute link of the school's report form, on the configured ``PUBLIC_URL``."""
    return external_url("report.form", code=school.code)


def is_local_address(link: str) -> bool:
    """Whether a link leads to an address only this computer or its local network can open
    (``localhost``, ``127.0.0.1``, ``10.x``, ``192.168.x``, ``*.local``...): a poster with it
    is useless on a school's wall."""
    host = (urlsplit(link).hostname or "").lower()
    if host in ("localhost", "") or host.endswith((".local", ".localhost", ".lan", ".internal")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "." not in host  # a bare machine name
    return address.is_private or address.is_loopback or address.is_link_local


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
        "forms": POSTER_FORMS,
        # Where a child without a camera types the school code.
        "find_link": external_url("report.find_school"),
        "language": language,
    }
