"""The student pages: find the school, tell what happened, keep the code, come back and talk.

No account and no JavaScript. Every response under ``/r`` is marked anonymous (``no-store``,
``no-referrer``). The session holds at most the chosen language, the CSRF token and, while a
conversation is open, ``{"id": <report id>, "seen": <last request, epoch seconds>}``; the
conversation closes after ``CONVERSATION_IDLE`` seconds without a request.

Quick exit (``/r/exit``): clears the session, asks the browser to drop this site's cookies and
storage (``Clear-Site-Data``, honoured on HTTPS), and shows a neutral page, or sends the browser
with a redirect to ``QUICK_EXIT_URL`` when one is configured. Without JavaScript a page cannot
remove earlier entries from the browser's history (``location.replace`` needs a script): what is
possible is done instead: every student page has the same neutral title, nothing is cached
(``no-store``) so going back shows no earlier answers, the conversation needs the code again
after the exit, and the receipt is never in a URL.
"""

from __future__ import annotations

import logging
import time
from contextlib import suppress
from functools import partial
from types import SimpleNamespace

from flask import (
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from core.anonymity import client_key
from extensions import db, limiter
from incidents.intake.form_page import saving_failed
from incidents.intake.forms import (
    DESCRIPTION_MAX,
    FORM_EXPLANATIONS,
    MESSAGE_MAX,
    DangerForm,
    MessageForm,
    ReportForm,
)
from incidents.intake.models import AuthorKind, Report
from incidents.intake.reporting import log_failed_save
from incidents.intake.school_finder import regions_for_finder, search_schools
from incidents.intake.uploads import MAX_FILES
from school.models import Region, School

CONVERSATION_IDLE = 30 * 60
T = "incidents/student/"
log = logging.getLogger(__name__)


def student_context() -> dict:
    return {
        "DESCRIPTION_MAX": DESCRIPTION_MAX,
        "MESSAGE_MAX": MESSAGE_MAX,
        "MAX_FILES": MAX_FILES,
    }


def _limit(setting: str):
    return limiter.limit(lambda: current_app.config[setting], key_func=client_key, methods=["POST"])


def _saved(response) -> bool:
    """Only a report that was saved (or shown again as already saved) counts toward a limit: a
    form sent back with mistakes, or not saved, costs the child nothing."""
    return response.status_code < 400


def _school_key() -> str:
    return "school:" + str((request.view_args or {}).get("code", "")).strip().lower()


def _report_limits(view):
    """The limits on reports, shared by the form and the danger page: a whole school
    often sends from one address (one Wi-Fi, one NAT), so the address has a ceiling sized for a
    school (``REPORT_RATE_LIMIT``) and each school one for its volume of reports
    (``SCHOOL_REPORT_RATE_LIMIT``, whatever the address), both counting saved reports only. A
    child's own repeats are not a third counter: the form's one-time token already makes the same
    form sent twice one report. Only a POST is limited: the help on the danger page always
    answers, and a POST over a limit gets its page back with the text kept (``too_many``)."""
    for setting, key, scope, counted in (
        ("SCHOOL_REPORT_RATE_LIMIT", _school_key, "school-reports", _saved),
        ("REPORT_RATE_LIMIT", client_key, "address-reports", _saved),
        # A backstop for floods of forms that are never saved (each costs a parse, and files a
        # cleaning): every send from the address counts, with room for a school's mistakes.
        ("REPORT_ATTEMPT_LIMIT", client_key, "address-attempts", None),
    ):
        view = limiter.shared_limit(
            partial(lambda name: current_app.config[name], setting),
            scope,
            key_func=key,
            methods=["POST"],
            deduct_when=counted,
        )(view)
    return view


def _school_or_404(code: str) -> School:
    school = db.session.scalar(select(School).where(School.code == code.strip().lower()))
    if school is None:
        regions = regions_for_finder()
        abort(make_response(render_template(T + "school_not_found.html", regions=regions), 404))
    return school


def too_many(error):
    """Over a limit: the child's page again with what they typed (from this request only, never
    stored), a kind word, the help numbers and the quick exit (the student layout); a 429."""
    code = str((request.view_args or {}).get("code", ""))
    school = (_school_or_none(code) if code else None) or SimpleNamespace(name="", code=code)
    if request.endpoint == "report.form":
        page = render_template(
            T + "form.html",
            school=school,
            form=ReportForm(),
            explanations=FORM_EXPLANATIONS,
            limited=True,
        )
    elif request.endpoint == "report.danger":
        page = render_template(T + "danger.html", school=school, form=DangerForm(), limited=True)
    elif request.endpoint == "report.conversation" and request.method == "POST":
        # The message as written, with the notice (the thread is not read for a refused send).
        page = render_template(
            T + "conversation.html",
            report=None,
            form=MessageForm(),
            staff=AuthorKind.staff,
            idle_minutes=CONVERSATION_IDLE // 60,
            limited=True,
        )
    else:
        page = render_template(T + "busy.html")
    return page, 429


def too_large(error):
    return render_template(T + "too_large.html", back=request.path), 413


# --- finding the school -----------------------------------------------------------------------


def find_school():
    region = db.session.get(Region, request.args.get("region", type=int) or 0)
    query = (request.args.get("q") or "").strip()[:100]
    schools, more = search_schools(region, query) if region else ([], False)
    return render_template(
        T + "find_school.html",
        regions=regions_for_finder(),
        region=region,
        query=query,
        schools=schools,
        more=more,
    )


def go():
    """The code typed from a poster, e.g. ``demo01``."""
    code = "".join((request.args.get("code") or "").split()).lower()[:16]
    if not code:
        return redirect(url_for(".find_school"), 303)
    return redirect(url_for(".form", code=code), 303)


def _school_or_none(code: str) -> School | None:
    """The school, or None when the database cannot be asked (then the page says so)."""
    try:
        return _school_or_404(code)
    except SQLAlchemyError as error:
        _not_saved(error)
        return None


def _not_saved(error: Exception, what: str = "a report") -> None:
    """Something failed before a report (or a message) was saved: the session starts over, and
    the forms opened next say that saving may not work. Only the kind of error is logged, never
    what the child wrote (``log_failed_save``)."""
    with suppress(SQLAlchemyError):
        db.session.rollback()  # on a lost connection the session starts over on its next use
    saving_failed()
    log_failed_save(what, error)


def _unavailable() -> object:
    """Not even the school can be looked up: say so, with the help numbers."""
    return render_template(T + "unavailable.html"), 503


def _open_conversation(report: Report) -> None:
    session["report"] = {"id": report.id, "seen": int(time.time())}


def quick_exit():
    session.clear()
    target = current_app.config.get("QUICK_EXIT_URL")
    response = redirect(target, 303) if target else make_response(render_template(T + "exit.html"))
    response.headers["Clear-Site-Data"] = '"cookies", "storage"'
    return response
