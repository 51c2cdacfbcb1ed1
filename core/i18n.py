"""The one place that decides the interface language.

Order: the user's explicit choice (kept in the session and, for staff, in the account)
→ the browser's Accept-Language → Kazakh.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import g, has_request_context, redirect, request, session, url_for
from flask_babel import get_locale as babel_get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core.anonymity import quiet_blueprint
from extensions import db

LOCALES = ("kk", "ru", "en")
DEFAULT_LOCALE = "kk"
# Shown in the switcher in each language's own name, never translated.
LOCALE_NAMES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}
LANGUAGE_TITLES = {"kk": _l("Kazakh"), "ru": _l("Russian"), "en": _l("English")}

# The language switch: students' browsers follow it too, so no access log records it.
bp = quiet_blueprint("i18n", __name__, paths=("/lang",))


def select_locale() -> str:
    if not has_request_context():
        return DEFAULT_LOCALE
    chosen = session.get("locale")
    if chosen in LOCALES:
        return chosen
    # Only a user already loaded for this request: loading one here could recurse through
    # Flask-Login's translated messages.
    user = g.get("_login_user")
    if getattr(user, "is_authenticated", False) and user.locale in LOCALES:
        return user.locale
    return request.accept_languages.best_match(LOCALES) or DEFAULT_LOCALE


def current_locale() -> str:
    return str(babel_get_locale() or DEFAULT_LOCALE)


def localized(obj: object, field: str = "name", locale: str | None = None) -> str:
    """Pick ``obj.<field>_<locale>``, falling back to Russian then Kazakh then English."""
    locale = locale or current_locale()
    for code in (locale, "ru", "kk", "en"):
        value = getattr(obj, f"{field}_{code}", None)
        if value:
            return value
    return ""


def safe_next(target: str | None, fallback: str = "/") -> str:
    """Only same-site relative paths may be redirected to."""
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    return target


@bp.get("/lang/<code>")
def switch(code: str):
    """Remember the chosen language; a plain link, so it works without JavaScript."""
    target = safe_next(request.args.get("next"), url_for("core.home"))
    if code not in LOCALES:
        return redirect(target)
    session["locale"] = code
    if getattr(current_user, "is_authenticated", False) and current_user.locale != code:
        current_user.locale = code
        db.session.commit()
    return redirect(target)


def compile_catalogs(app) -> None:
    """Compile each ``messages.po`` whose ``.mo`` is missing or older (a fresh clone speaks Kazakh).

    Written to a temporary file and renamed, so that several workers starting at once are safe.
    """
    import os
    import tempfile
    from pathlib import Path

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    root = Path(app.root_path) / "translations"
    for code in LOCALES:
        po = root / code / "LC_MESSAGES" / "messages.po"
        mo = po.with_suffix(".mo")
        if not po.exists():
            raise RuntimeError(f"No catalog for the configured language {code!r}: {po}")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=code)
        fd, tmp = tempfile.mkstemp(dir=po.parent, suffix=".mo.tmp")
        with os.fdopen(fd, "wb") as handle:
            write_mo(handle, catalog, use_fuzzy=False)
        os.replace(tmp, mo)


def init_app(app) -> None:
    compile_catalogs(app)
    app.register_blueprint(bp)
    app.jinja_env.globals.update(
        LOCALES=LOCALES,
        LOCALE_NAMES=LOCALE_NAMES,
        current_locale=current_locale,
        localized=localized,
    )
