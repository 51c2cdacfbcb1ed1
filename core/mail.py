"""Outgoing e-mail (its links come from ``core.public_url.external_url``).

Notices go through an outbox, so that none is lost when the mail server is away: ``queue_mail``
adds a message to the ``mail_outbox`` table with the caller's change, and ``deliver`` sends what
is queued and due (the caller calls it just after its commit; ``flask --app app mail send``, run
every few minutes from cron, sends what failed then). A message that cannot be sent is tried
again after 1, 5, 15, 30 and 60 minutes and then every hour, for a day; then it is given up and
logged as an error. The first failure ends a round: the other messages wait for the next one.

No request waits on the mail server: in a request, ``deliver`` only notes what to send, and the
messages are sent just after the answer has been written to the client (``response.call_on_close``:
the child has the receipt, the worker is still busy). Each SMTP connection and answer may take
``MAIL_TIMEOUT`` seconds (5), so a server that accepts and never answers holds the worker once
for that long; after a failure the worker sends nothing after its answers for a minute (the first
retry) and leaves the outbox to the job.

``send_mail(to, subject, body)`` sends plain text over SMTP with the settings ``MAIL_SERVER``,
``MAIL_PORT``, ``MAIL_SENDER`` and, when set, ``MAIL_USE_TLS`` (STARTTLS), ``MAIL_USERNAME`` and
``MAIL_PASSWORD``. Without ``MAIL_SERVER`` (development) the message is written to the app log
instead. Callers decide what goes into a message; a mail never carries what a student wrote.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import click
from flask import Flask, Response, current_app, g, has_request_context
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy import Integer, String, Text, inspect, select
from sqlalchemy.orm import Mapped, mapped_column

from core.i18n import DEFAULT_LOCALE
from core.model_types import UTCDateTime, utcnow
from extensions import db

# Minutes to wait before each new try; then every hour until a day has passed.
RETRY_MINUTES = (1, 5, 15, 30, 60)
GIVE_UP_AFTER = timedelta(days=1)
# After a failure, a worker sends nothing after its answers for this long (the first retry).
PAUSE_AFTER_FAILURE = RETRY_MINUTES[0] * 60
# Sent and given-up messages are kept this long (a record of what was notified), then deleted.
KEEP_DONE = timedelta(days=90)
log = logging.getLogger(__name__)


class OutgoingMail(db.Model):
    """A message waiting to be sent, or sent (kept for a record of what was notified when)."""

    __tablename__ = "mail_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    to: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When to try next; None once it is sent or given up.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(200))


def queue_mail(to: str, subject: str, body: str) -> OutgoingMail:
    """Add a message to the outbox in the current transaction; the caller commits."""
    mail = OutgoingMail(to=to, subject=subject, body=body, due_at=utcnow())
    db.session.add(mail)
    return mail


def queue_for(users, compose: Callable[[], tuple[str, str]]) -> list[OutgoingMail]:
    """One message to each of ``users``, in the user's own language: ``compose`` returns the
    (subject, body) and runs under that locale. The caller commits, then ``deliver``s."""
    mails = []
    for user in users:
        with force_locale(user.locale or DEFAULT_LOCALE):
            subject, body = compose()
        mails.append(queue_mail(user.email, subject, body))
    return mails


def deliver(mails: Sequence[OutgoingMail] | None = None, now: datetime | None = None) -> int:
    """Send ``mails`` (default: every queued message that is due) and commit after each one;
    returns how many were sent. A failure is kept for a later try (see the module's text).

    In a request nothing is sent now (returns 0): the messages go out after the answer."""
    if has_request_context():
        _send_after_response(mails)
        return 0
    return _send(mails, now)


def _send_after_response(mails: Sequence[OutgoingMail] | None) -> None:
    """Note ``mails`` (None: every due message) for ``_after_request``."""
    pending = g.setdefault("mail_after_response", set())
    if mails is None:
        g.mail_all_due = True
    else:
        # The identity, not ``mail.id``: the caller's commit expired it (no query for it).
        pending.update(inspect(mail).identity[0] for mail in mails)


def _after_request(response: Response) -> Response:
    ids = g.pop("mail_after_response", None)
    if ids is not None:
        every_due = g.pop("mail_all_due", False)
        app = current_app._get_current_object()
        response.call_on_close(lambda: _send_pending(app, None if every_due else ids))
    return response


def _send_pending(app: Flask, ids: set[int] | None) -> None:
    """After the answer (its context is gone): send what the request queued, unless this worker
    failed less than ``PAUSE_AFTER_FAILURE`` ago; then the job sends it."""
    state = app.extensions["qamqor_mail"]
    if time.monotonic() < state["paused_until"]:
        return
    with app.app_context():
        try:
            mails = None
            if ids is not None:
                mails = db.session.scalars(
                    select(OutgoingMail).where(OutgoingMail.id.in_(ids)).order_by(OutgoingMail.id)
                ).all()
            _send(mails, utcnow())
        except Exception:  # noqa: BLE001 - the answer is out; the outbox keeps them for the job
            log.exception("mail: sending after the answer failed")
            _pause()
        finally:
            db.session.remove()


def _send(mails: Sequence[OutgoingMail] | None, now: datetime | None) -> int:
    now = now or utcnow()
    if mails is None:
        mails = db.session.scalars(
            select(OutgoingMail).where(OutgoingMail.due_at <= now).order_by(OutgoingMail.id)
        ).all()
    sent = 0
    for mail in mails:
        if mail.due_at is None:
            continue  # sent (or given up) meanwhile
        try:
            send_mail(mail.to, mail.subject, mail.body)
        except OSError as error:  # smtplib's errors are OSErrors too
            _failed(mail, error, now)
            mail.attempts += 1
            db.session.commit()
            _pause()
            # The server is most likely away for the others too: they wait for the next round.
            break
        mail.sent_at, mail.due_at = now, None
        mail.attempts += 1
        sent += 1
        db.session.commit()
    return sent


def _pause() -> None:
    current_app.extensions["qamqor_mail"]["paused_until"] = time.monotonic() + PAUSE_AFTER_FAILURE


def _failed(mail: OutgoingMail, error: OSError, now: datetime) -> None:
    mail.last_error = f"{type(error).__name__}: {error}"[:200]
    created = mail.created_at
    wait = RETRY_MINUTES[mail.attempts] if mail.attempts < len(RETRY_MINUTES) else 60
    if now + timedelta(minutes=wait) - created > GIVE_UP_AFTER:
        mail.due_at = None
        log.error("mail %s given up after %d tries: %s", mail.id, mail.attempts + 1, error)
    else:
        mail.due_at = now + timedelta(minutes=wait)
        log.warning("mail %s not sent (try %d): %s", mail.id, mail.attempts + 1, error)


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
    timeout = config["MAIL_TIMEOUT"]
    with smtplib.SMTP(config["MAIL_SERVER"], int(config["MAIL_PORT"]), timeout=timeout) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls(context=ssl.create_default_context())
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD", ""))
        for address in recipients:
            smtp.send_message(build_message(address, subject, body))


mail_cli = AppGroup("mail", help="Outgoing e-mail.")


def prune(now: datetime | None = None) -> int:
    """Delete the messages sent or given up more than ``KEEP_DONE`` ago; the caller commits."""
    before = (now or utcnow()) - KEEP_DONE
    done = db.delete(OutgoingMail).where(
        OutgoingMail.due_at.is_(None), OutgoingMail.created_at < before
    )
    return db.session.execute(done).rowcount


@mail_cli.command("send")
def send_command() -> None:
    """Send the queued messages that are due (run every few minutes)."""
    sent = deliver()
    prune()
    db.session.commit()
    waiting = db.session.scalar(
        select(db.func.count(OutgoingMail.id)).where(OutgoingMail.due_at.is_not(None))
    )
    click.echo(f"sent {sent}; waiting for a later try: {waiting}")


def init_app(app: Flask) -> None:
    app.cli.add_command(mail_cli)
    # Per process (each gunicorn worker has its own): until when it leaves mail to the job.
    app.extensions["qamqor_mail"] = {"paused_until": 0.0}
    app.after_request(_after_request)
