"""Error pages in the user's language.

Each status of ``ERRORS`` has its own texts; any other error status (405 for a method a page
does not take, say) gets the texts of 400 or 500 with its own status and headers (``Allow``).
The pages gunicorn itself writes are in ``core.server_pages``.

A child meets these pages too (the report and survey pages): there the texts speak to the child
(«сен»/«ты», as every child page), and the page has the quick exit."""

from __future__ import annotations

from flask import Flask, g, has_request_context, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

ERRORS = {
    400: (_l("Something went wrong with the request"), _l("Please go back and try again.")),
    403: (
        _l("You do not have access to this page"),
        _l("If you think you should, ask your school administrator."),
    ),
    404: (
        _l("Page not found"),
        _l("The address may be mistyped, or the page no longer exists."),
    ),
    413: (
        _l("The file is too large"),
        _l("Each file may be at most 10 MB. Nothing was saved: go back and choose a smaller file."),
    ),
    429: (
        _l("Too many attempts"),
        _l("Please wait a few minutes and try again."),
    ),
    500: (
        _l("Something went wrong on our side"),
        _l("Nothing you did caused this. Please try again in a few minutes."),
    ),
}


# The pages of these blueprints are a child's.
CHILD_BLUEPRINTS = frozenset({"report", "survey"})
# What differs when the reader is a child; the other texts speak to nobody in particular.
CHILD_MESSAGES = {
    400: _l("Go back and try once more."),
    500: _l("It is not your fault. Try once more in a few minutes."),
}
CHILD_FORM_EXPIRED = _l(
    "For your safety, a form stops working after a while. Go back, reload the page and send it "
    "once more."
)


def child_page() -> bool:
    """True on the pages a child reads: the anonymous report and survey pages."""
    if not has_request_context():
        return False
    return bool(g.get("anonymous_page")) or request.blueprint in CHILD_BLUEPRINTS


def render_error(code: int, title=None, message=None):
    default_title, default_message = ERRORS.get(code, ERRORS[500])
    child = child_page()
    if child:
        default_message = CHILD_MESSAGES.get(code, default_message)
    return (
        render_template(
            "errors/error.html",
            code=code,
            title=title or default_title,
            message=message or default_message,
            child=child,
        ),
        code,
    )


def other_error(error: HTTPException):
    """An error status without texts of its own: those of 400 or 500, and its own headers."""
    if error.code is None or error.code < 400:
        return error  # not an error page (a redirect of the routing, say)
    page, code = render_error(400 if error.code < 500 else 500)
    headers = [(name, value) for name, value in error.get_headers() if name != "Content-Type"]
    return page, error.code, headers


def init_app(app: Flask) -> None:
    for code in ERRORS:
        app.register_error_handler(code, lambda error, code=code: render_error(code))
    app.register_error_handler(HTTPException, other_error)

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(
            400,
            _l("This form has expired"),
            CHILD_FORM_EXPIRED
            if child_page()
            else _l(
                "For your safety, forms expire after a while. Go back, reload the page and send it again."
            ),
        )
