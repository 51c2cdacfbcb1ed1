"""The one PDF renderer: an HTML template in, PDF bytes out (WeasyPrint).

Resources may come only from the app's own static folder; ``file:`` and outside URLs are refused,
so a template can never make the server read a local file or call the network.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import urlsplit

from flask import current_app, render_template
from flask_babel import force_locale

from core.downloads import content_disposition

STATIC_PREFIX = "/static/"


def _static_resource(url: str) -> tuple[bytes, str]:
    """The bytes and type of a file under /static/; anything else raises ValueError."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.path.startswith(STATIC_PREFIX):
        raise ValueError(f"PDF resource refused: {url}")
    root = Path(current_app.static_folder).resolve()
    path = (root / parts.path[len(STATIC_PREFIX) :]).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise ValueError(f"PDF resource refused: {url}")
    return path.read_bytes(), mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def _fetcher():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnlyFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            body, mime_type = _static_resource(url)
            return URLFetcherResponse(url, body=body, headers={"Content-Type": mime_type})

    return StaticOnlyFetcher(allowed_protocols=("http", "https"))


def render_pdf(template: str, *, locale: str | None = None, **context) -> bytes:
    """Render ``template`` (a Jinja template extending ``pdf/base.html``) to PDF bytes.

    ``locale`` renders the document in another language than the page's (a referral letter in
    the body's language, a handout in the class's language).
    """
    from PIL import ImageFile
    from weasyprint import HTML

    # Importing WeasyPrint tells Pillow to load truncated images, in the whole process: undone,
    # so that a damaged upload is still refused after a PDF was made (incidents.intake.uploads).
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    if locale:
        with force_locale(locale):
            html = render_template(template, pdf_locale=locale, **context)
    else:
        html = render_template(template, **context)
    return HTML(string=html, base_url="http://pdf.invalid/", url_fetcher=_fetcher()).write_pdf()


def pdf_response(data: bytes, filename: str):
    """Send PDF bytes as a download that is never cached."""
    response = current_app.response_class(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = content_disposition(filename, inline=True)
    response.headers["Cache-Control"] = "no-store"
    return response
