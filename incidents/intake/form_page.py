"""The blank report form, rendered once per school and language and then reused for a minute.

Every poster and QR code leads to this page, so it is the one a whole school may open at the
same moment. Rendering its fifty-odd choices through WTForms costs about 15 ms, many times the
cost of serving it; and on PostgreSQL even the school's look-up (a connection, a query, a
rollback) costs more than the rest of the request (``bench/serving.py``; before and after in
``bench/RESULTS.md``). Two visitors' blank forms differ only in the CSRF token and the
submission token, so the page is rendered with markers in their place, kept for
``REPORT_FORM_CACHE_SECONDS`` (60 by default; 0 turns the sharing off), and each request puts
in its own tokens.

So an edited school name shows on the form within that time, not at once. A school that no
longer exists may show its form until then too; sending it answers "school not found", as the
school is looked up for every submission.

A page is shared only when nothing else can differ: no flashed message waiting, nobody logged
in, no query string, not in debug mode (templates may change). The key is the language and the
path. At most ``SLOTS`` pages are kept per process; the least recently used go first.

When a report cannot be saved now, the form says so before anything is typed: the
shared page has a place for that notice (``NOTICE_MARK``), filled when
``saving_possible()`` is false: the database did not answer (asked at most every
``CHECK_SECONDS`` per process, so a shared page still costs no query of its own), or a save
failed in this process in the last ``FAILED_SECONDS``.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from flask import current_app, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from core.i18n import current_locale
from extensions import db

SLOTS = 512
CSRF_MARK = "qamqorcsrfmark"
TOKEN_MARK = "qamqortokenmark"  # noqa: S105 - a placeholder replaced in every page, no secret
NOTICE_MARK = "<!-- qamqor: the not-saved notice goes here -->"
CHECK_SECONDS = 5.0
FAILED_SECONDS = 30.0
_lock = threading.Lock()


def _saving() -> dict:
    return current_app.extensions.setdefault("qamqor_saving", {"ok": True, "until": 0.0})


def saving_possible() -> bool:
    """Whether a report can be saved now, as far as this process knows (see the module's text)."""
    state = _saving()
    now = time.monotonic()
    if now < state["until"]:
        return state["ok"]
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        ok = True
    except SQLAlchemyError:
        ok = False
    state.update(ok=ok, until=now + CHECK_SECONDS)
    return ok


def saving_failed() -> None:
    """A save just failed: the forms opened in the next ``FAILED_SECONDS`` say so up front."""
    _saving().update(ok=False, until=time.monotonic() + FAILED_SECONDS)


def saving_worked() -> None:
    _saving().update(ok=True, until=time.monotonic() + CHECK_SECONDS)


def _shareable() -> bool:
    return not (
        request.query_string
        or session.get("_flashes")
        or current_user.is_authenticated
        or current_app.debug
    )


def blank_form(
    render: Callable[[str, str], str], new_token: Callable[[], str], notice: str = ""
) -> str | None:
    """The blank form page of this URL with this request's tokens and ``notice`` (HTML) in its
    place, or None when it may not be shared (then the caller renders it as usual).

    ``render(csrf_token, submission_token)`` looks the school up (a 404 for an unknown one is
    never kept) and renders the page with the given tokens.
    """
    seconds = current_app.config["REPORT_FORM_CACHE_SECONDS"]
    if seconds <= 0 or not _shareable():
        return None
    cache: OrderedDict = current_app.extensions.setdefault(
        "qamqor_blank_report_form", OrderedDict()
    )
    key = (current_locale(), request.path)
    now = time.monotonic()
    with _lock:
        kept = cache.get(key)
        if kept is not None and kept[0] > now:
            cache.move_to_end(key)
            page = kept[1]
        else:
            page = None
    if page is None:
        page = render(CSRF_MARK, TOKEN_MARK)
        if page.count(TOKEN_MARK) != 1 or page.count(CSRF_MARK) > 1 or NOTICE_MARK not in page:
            return None  # the template no longer has one place for each: do not share it
        with _lock:
            cache[key] = (now + seconds, page)
            cache.move_to_end(key)
            while len(cache) > SLOTS:
                cache.popitem(last=False)
    if CSRF_MARK in page:
        page = page.replace(CSRF_MARK, generate_csrf(), 1)
    return page.replace(TOKEN_MARK, new_token(), 1).replace(NOTICE_MARK, notice, 1)
