"""The blank report form, rendered once per school and language and then reused.

Every poster and QR code leads to this page, so it is the one a whole school may open at the
same moment. Rendering its fifty-odd choices through WTForms costs about 15 ms, many times the
cost of serving it (``bench/serving.py``; before and after in ``bench/RESULTS.md``). Two
visitors' blank forms differ only in the CSRF token and the submission token, so the page is
rendered once with markers in their place, and each request puts in its own tokens.

A page is shared only when nothing else can differ: no flashed message waiting, nobody logged
in, no query string, not in debug mode (templates may change). The key holds the language, the
path and every column of the school, so an edited school is rendered anew. At most ``SLOTS``
pages are kept per process; the least recently used go first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from flask import current_app, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from core.i18n import current_locale
from school.models import School

SLOTS = 512
CSRF_MARK = "qamqorcsrfmark"
TOKEN_MARK = "qamqortokenmark"  # noqa: S105 - a placeholder replaced in every page, no secret
_lock = threading.Lock()


def _shareable() -> bool:
    return not (
        request.query_string
        or session.get("_flashes")
        or current_user.is_authenticated
        or current_app.debug
    )


def blank_form(school: School, render: Callable[[str, str], str], new_token: Callable[[], str]):
    """The blank form page for ``school`` with this request's tokens, or None when it may not
    be shared (then the caller renders it as usual).

    ``render(csrf_token, submission_token)`` renders the page with the given tokens.
    """
    if not _shareable():
        return None
    cache: OrderedDict = current_app.extensions.setdefault(
        "qamqor_blank_report_form", OrderedDict()
    )
    key = (
        current_locale(),
        request.path,
        tuple(getattr(school, column.key) for column in School.__table__.columns),
    )
    with _lock:
        page = cache.get(key)
        if page is not None:
            cache.move_to_end(key)
    if page is None:
        page = render(CSRF_MARK, TOKEN_MARK)
        if page.count(TOKEN_MARK) != 1 or page.count(CSRF_MARK) > 1:
            return None  # the template no longer has one place for each: do not share it
        with _lock:
            cache[key] = page
            while len(cache) > SLOTS:
                cache.popitem(last=False)
    if CSRF_MARK in page:
        page = page.replace(CSRF_MARK, generate_csrf(), 1)
    return page.replace(TOKEN_MARK, new_token(), 1)
