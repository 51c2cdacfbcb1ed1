"""The one PDF renderer: an HTML template in, PDF bytes out (WeasyPrint).

Resources may come only from the app's own static folder; ``file:`` and outside URLs are refused,
so a template can never make the server read a local file or call the network.

WeasyPrint is imported when the first PDF is made, never at start-up. A document that is the same
for everyone and slow to lay out (the handbook: 6 to 14 seconds) is made once and kept in the
instance folder (``kept_pdf``), named by the digest of everything it is made of: the content, the
language, the templates and style sheets, and the code that lays it out. Every worker and every
restart reads the same file; changed inputs make a new one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import mimetypes
import os
import re
import secrets
from collections import Counter
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit

from flask import current_app, render_template
from flask_babel import force_locale

from core.downloads import content_disposition

STATIC_PREFIX = "/static/"
KEPT_DIR = "pdf_kept"  # in the instance folder
# PDFs laid out by this process, by template (read by tests and bench/documents.py).
RENDERS: Counter[str] = Counter()
_SLOT = re.compile(r"[a-z0-9][a-z0-9-]{0,80}")
_PARTS = re.compile(r"""{%-?\s*(?:extends|include|import|from)\s+["']([^"']+)["']""")
_STYLES = re.compile(r"""["']/static/([^"']+)["']""")


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
    RENDERS[template] += 1
    if locale:
        with force_locale(locale):
            html = render_template(template, pdf_locale=locale, **context)
    else:
        html = render_template(template, **context)
    return HTML(string=html, base_url="http://pdf.invalid/", url_fetcher=_fetcher()).write_pdf()


def _code_version(template: str) -> list[str]:
    """Digests of what lays the document out besides its content: the template and those it
    extends or includes, the style sheets they link, this module and WeasyPrint's version."""
    env = current_app.jinja_env
    static = Path(current_app.static_folder)
    seen, todo, parts = set(), [template], []
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        source = env.loader.get_source(env, name)[0]
        parts.append(name + ":" + hashlib.sha256(source.encode()).hexdigest())
        todo += _PARTS.findall(source)
        for style in _STYLES.findall(source):
            with contextlib.suppress(OSError):
                digest = hashlib.sha256((static / style).read_bytes()).hexdigest()
                parts.append(f"static/{style}:{digest}")
    parts.append("core.pdf:" + hashlib.sha256(Path(__file__).read_bytes()).hexdigest())
    parts.append("weasyprint:" + metadata.version("weasyprint"))
    return sorted(parts)


def kept_pdf(slot: str, template: str, *, locale: str, inputs: object, **context) -> bytes:
    """``render_pdf(template, locale=locale, **context)``, made once and kept in the instance
    folder. ``inputs`` stands for the content (JSON-able: ids and digests, not the text); the
    file is named ``<slot>.<digest>.pdf`` with the digest of the inputs, the language and the
    code version, written to a temporary file and renamed (a reader never sees half a file), and
    the other versions of the slot are removed once it is there."""
    if not _SLOT.fullmatch(slot):
        raise ValueError(f"not a slot name: {slot!r}")
    key = json.dumps([template, locale, inputs, _code_version(template)], sort_keys=True)
    folder = Path(current_app.instance_path) / KEPT_DIR
    path = folder / f"{slot}.{hashlib.sha256(key.encode()).hexdigest()}.pdf"
    with contextlib.suppress(FileNotFoundError):
        return path.read_bytes()
    data = render_pdf(template, locale=locale, **context)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = folder / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}"
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
        out.write(data)
    os.replace(tmp, path)
    for old in folder.glob(f"{slot}.*.pdf"):
        if old != path:
            old.unlink(missing_ok=True)  # an earlier version of the same document
    return data


def pdf_response(data: bytes, filename: str):
    """Send PDF bytes as a download that is never cached."""
    response = current_app.response_class(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = content_disposition(filename, inline=True)
    response.headers["Cache-Control"] = "no-store"
    return response
