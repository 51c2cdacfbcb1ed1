"""What the browser tests do again and again: log staff in, check a page with axe, take
screenshots, read a downloaded PDF, and make the data a scenario starts from."""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path

import pyotp
from PIL import Image
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from school.models import Role
from tests import factories
from tests.conftest import PASSWORD

CHROMIUM = os.environ.get("QAMQOR_CHROMIUM", "/usr/bin/chromium")
# Playwright cannot download its own browsers here: it drives Debian's build with these flags.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}
TIMEOUT_MS = 15_000
RECEIPT_CODE = re.compile(r"\b\d{4} \d{4} \d{4} \d{4}\b")
# axe-core's impacts that fail a test; "moderate" and "minor" ones are written to the report.
FAILING_IMPACTS = ("serious", "critical")


def choose_language(page: Page, code: str) -> None:
    """Switch the interface language with the switcher in the header, as a person would."""
    names = {"kk": "Қазақша", "ru": "Русский", "en": "English"}
    switcher = page.get_by_role("navigation", name=re.compile(".+")).filter(
        has=page.get_by_role("link", name=names[code], exact=True)
    )
    switcher.get_by_role("link", name=names[code], exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", code)


def log_in(
    page: Page, tr, lang: str, email: str, full_name: str, totp_secret: str | None = None
) -> None:
    """Staff log-in through the form, with the authenticator's code when the account has one."""
    page.goto("/login")
    choose_language(page, lang)
    page.get_by_label(tr(lang, "E-mail")).fill(email)
    page.get_by_label(tr(lang, "Password")).fill(PASSWORD)
    page.get_by_role("button", name=tr(lang, "Log in")).click()
    if totp_secret:
        expect(page.get_by_role("heading", level=1)).to_have_text(tr(lang, "Two-factor log-in"))
        page.get_by_label(tr(lang, "Code"), exact=True).fill(pyotp.TOTP(totp_secret).now())
        page.get_by_role("button", name=tr(lang, "Continue")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        tr(lang, "Hello, %(name)s", name=full_name)
    )


def section(page: Page, heading: str):
    """The ``<section>`` a heading names (sections without a label are no ARIA regions)."""
    return page.locator("section").filter(has=page.get_by_role("heading", name=heading, exact=True))


def jpeg_with_location(path: Path) -> Path:
    """A real photo file on disk, with the camera's GPS position in its EXIF."""
    image = Image.new("RGB", (320, 240), (180, 40, 40))
    exif = Image.Exif()
    exif[0x0110] = "Phone X"  # camera model
    exif[0x8825] = {1: "N", 2: (43.0, 14.0, 30.0), 3: "E", 4: (76.0, 53.0, 10.0)}  # GPS
    image.save(path, "JPEG", exif=exif)
    with Image.open(path) as saved:
        assert saved.getexif().get_ifd(0x8825), "the test photo must carry a position"
    return path


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF"), data[:20]
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


# --- accessibility and screenshots ------------------------------------------------------------

_axe = None


def axe_violations(page: Page, name: str, *, contrast: bool = True) -> list[dict]:
    """Run axe-core (shipped inside axe-playwright-python, nothing fetched) on the page; append
    every violation to ``artifacts/axe.jsonl``; return the serious and critical ones.

    ``contrast=False`` leaves out the colour-contrast rule, three quarters of axe's time: colours
    do not change with the language, so it runs in one language per page type."""
    global _axe
    if _axe is None:
        from axe_playwright_python.sync_playwright import Axe

        _axe = Axe()
    options = {"resultTypes": ["violations"]}
    if not contrast:
        options["rules"] = {"color-contrast": {"enabled": False}}
    results = _axe.run(page, options=options).response
    lang = page.locator("html").get_attribute("lang")
    ARTIFACTS.mkdir(exist_ok=True)
    found = []
    with (ARTIFACTS / "axe.jsonl").open("a", encoding="utf-8") as log:
        for violation in results["violations"]:
            entry = {
                "page": name,
                "lang": lang,
                "url": page.url,
                "id": violation["id"],
                "impact": violation["impact"],
                "help": violation["help"],
                "targets": [node["target"] for node in violation["nodes"]][:10],
            }
            log.write(json.dumps(entry, ensure_ascii=False) + "\n")
            if violation["impact"] in FAILING_IMPACTS:
                found.append(entry)
    return found


def overflow(page: Page) -> list[str]:
    """Elements wider than the window (a horizontal scroll bar), and text cut by its box."""
    return page.evaluate(
        """() => {
        const problems = [];
        const doc = document.documentElement;
        if (doc.scrollWidth > doc.clientWidth + 1) {
            problems.push(`page is ${doc.scrollWidth}px wide in a ${doc.clientWidth}px window`);
        }
        const describe = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
            (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '');
        for (const el of document.body.querySelectorAll('*')) {
            const style = getComputedStyle(el);
            if (style.display === 'none' || style.visibility === 'hidden') continue;
            const rect = el.getBoundingClientRect();
            if (rect.width === 0 || rect.height === 0) continue;
            // Scrollable tables are meant to scroll; skip what sits inside them.
            if (el.closest('.table-wrap')) continue;
            if (rect.right > doc.clientWidth + 1 && style.position !== 'fixed') {
                problems.push(`${describe(el)} reaches ${Math.round(rect.right)}px: "${el.textContent.trim().slice(0, 40)}"`);
            }
            const clips = ['hidden', 'clip'].includes(style.overflowX);
            if (clips && el.scrollWidth > el.clientWidth + 1 && el.textContent.trim()
                && !el.classList.contains('visually-hidden') && !el.classList.contains('skip')) {
                problems.push(`${describe(el)} cuts its text: "${el.textContent.trim().slice(0, 40)}"`);
            }
        }
        return problems.slice(0, 10);
    }"""
    )


def phone_overflow(page: Page) -> list[str]:
    """The layout problems of the page at phone width, without a screenshot."""
    page.set_viewport_size(PHONE)
    problems = [f"{PHONE['width']}px: {p}" for p in overflow(page)]
    page.set_viewport_size(DESKTOP)
    return problems


def screenshots(page: Page, name: str, lang: str) -> list[str]:
    """Full-page screenshots at phone and desktop width, ``<page>-<lang>-<width>.png``; returns
    the layout problems found at each width."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems = []
    for size in (PHONE, DESKTOP):
        page.set_viewport_size(size)
        page.screenshot(path=SCREENSHOTS / f"{name}-{lang}-{size['width']}.png", full_page=True)
        problems += [f"{size['width']}px: {p}" for p in overflow(page)]
    page.set_viewport_size(DESKTOP)
    return problems


# --- data -------------------------------------------------------------------------------------


def school_with_counselor(name: str) -> dict:
    """A school teaching in Kazakh and Russian, and its counselor with an authenticator."""
    school = factories.school(name=name)
    counselor = factories.user(Role.counselor, school, full_name="Айгүл Серікова")
    return {
        "school_id": school.id,
        "code": school.code,
        "name": school.name,
        "counselor_email": counselor.email,
        "counselor_name": counselor.full_name,
        "counselor_secret": counselor.totp_secret,
    }
