"""gunicorn's own error pages, in Kazakh, Russian and English.

gunicorn answers some requests itself, with a page in English: a request it cannot read (a bad
request line, a header too long, too many headers: 400, 414, 431 and the like), and a request
whose worker was stopped at its time-out (the worker is aborted and answers 500 before it
exits). ``LocalizedSyncWorker`` (``worker_class`` in ``gunicorn.conf.py``) leaves gunicorn's
choice of status and its log lines as they are and replaces the page with one in the three
languages, with the texts of the app's own error pages (``core.errors``) and the hardening
headers of every page (``core.security``): the reader's language is not known there (the
request may not even have been read). A worker killed outright
(SIGKILL, out of memory) answers nothing: the client sees a broken connection.
"""

from __future__ import annotations

import html

from flask import Flask
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from gunicorn import util
from gunicorn.workers.sync import SyncWorker

from core.errors import ERRORS
from core.i18n import LOCALES
from core.security import CSP


def error_page(app: Flask, status: int) -> bytes:
    """The page for ``status``: each language in a section of its own."""
    kind = 500 if status >= 500 else 403 if status == 403 else 400
    titles, sections = [], []
    with app.app_context():
        for locale in LOCALES:
            with force_locale(locale):
                title, message = (str(text) for text in ERRORS[kind])
                home = str(_l("Go to the home page"))
            titles.append(html.escape(title))
            sections.append(
                f'<section lang="{locale}"><h1>{html.escape(title)}</h1>'
                f"<p>{html.escape(message)}</p>"
                f'<p><a href="/">{html.escape(home)}</a></p></section>'
            )
    return (
        '<!doctype html>\n<html lang="kk"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{status} · {' · '.join(titles)}</title></head>\n"
        f"<body><main>{''.join(sections)}</main></body></html>\n"
    ).encode()


class _Kept:
    """A client socket whose writes are kept instead of sent (everything else goes through)."""

    def __init__(self, client) -> None:
        self._client = client
        self.data = b""

    def __getattr__(self, name: str):
        return getattr(self._client, name)

    def sendall(self, data: bytes) -> None:
        self.data += data

    def send(self, data: bytes) -> int:
        self.data += data
        return len(data)


class LocalizedSyncWorker(SyncWorker):
    """gunicorn's sync worker, its error pages in the three languages."""

    def load_wsgi(self) -> None:
        super().load_wsgi()
        self.error_pages: dict[int, bytes] = {}

    def page(self, status: int) -> bytes:
        if status not in self.error_pages:
            self.error_pages[status] = error_page(self.wsgi, status)
        return self.error_pages[status]

    def handle_error(self, req, client, addr, exc) -> None:
        kept = _Kept(client)
        super().handle_error(req, kept, addr, exc)  # gunicorn's status, log and access line
        status_line = kept.data.split(b"\r\n", 1)[0]  # "HTTP/1.1 400 Bad Request"
        try:
            status = int(status_line.split()[1])
        except (IndexError, ValueError):  # nothing written: nothing to replace
            return
        try:
            body = self.page(status)
        except Exception:  # noqa: BLE001 - the app's texts failed: gunicorn's own page then
            self.log.exception("localized error page failed")
            body = None
        head = [
            status_line,
            b"Connection: close",
            b"Content-Type: text/html; charset=utf-8",
            b"Content-Language: kk, ru, en",
            b"Cache-Control: no-store",
            b"Content-Security-Policy: " + CSP.encode(),
            b"X-Content-Type-Options: nosniff",
            b"X-Frame-Options: DENY",
            b"Referrer-Policy: no-referrer",
            b"Content-Length: %d" % len(body or b""),
        ]
        answer = b"\r\n".join(head) + b"\r\n\r\n" + body if body is not None else kept.data
        try:
            util.write_nonblock(client, answer)
        except OSError:
            self.log.debug("Failed to send error message.")
