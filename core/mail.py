"""Outgoing e-mail, and absolute links to put in it (or on paper).

``send_mail(to, subject, body)`` sends plain text over SMTP with the settings ``MAIL_SERVER``,
``MAIL_PORT``, ``MAIL_SENDER`` and, when set, ``MAIL_USE_TLS`` (STARTTLS), ``MAIL_USERNAME`` and
``MAIL_PASSWORD``. Without ``MAIL_SERVER`` (development) the message is written to the app log
instead. Callers decide what goes into a message; a mail never carries what a student wrote.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app, request, url_for

SMTP_TIMEOUT = 10


def build_message(to: str, subject: str, body: str) -> EmailMessage:
    sender = current_app.config["MAIL_SENDER"]
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
    message.set_content(body)
    return message


def send_mail(to: str | Sequence[str], subject: str, body: str) -> None:
    """Send one message to each recipient (recipients never see each other's address)."""
    recipients = [to] if isinstance(to, str) else [address for address in to if address]
    if not recipients:
        return
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        for address in recipients:
            current_app.logger.info(
                "Mail not sent (no MAIL_SERVER) to %s\nSubject: %s\n\n%s", address, subject, body
            )
        return
    with smtplib.SMTP(
        config["MAIL_SERVER"], int(config["MAIL_PORT"]), timeout=SMTP_TIMEOUT
    ) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls(context=ssl.create_default_context())
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD", ""))
        for address in recipients:
            smtp.send_message(build_message(address, subject, body))


def absolute_url(endpoint: str, **values) -> str:
    """A full link: on ``PUBLIC_URL`` when it is set, else on the host of the current request."""
    path = url_for(endpoint, **values)
    base = current_app.config.get("PUBLIC_URL") or request.host_url
    return base.rstrip("/") + path
