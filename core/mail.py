"""Outgoing e-mail (its links come from ``core.public_url.external_url``).

Notices go through an outbox, so that none is lost when the mail server is away: ``queue_mail``
adds a message to the ``mail_outbox`` table with the caller's change, and ``deliver`` sends what
is queued and due (the caller calls it just after its commit; ``flask --app app mail send``, run
every few minutes from cron, sends what failed then). A message that cannot be sent is tried
again after 1, 5, 15, 30 and 60 minutes and then every hour, for a day; then it is given up and
logged as an error. The first failure ends a round: the other messages wait for the next one, so
a request never waits for more than one time-out (``SMTP_TIMEOUT``).

``send_mail(to, subject, body)`` sends plain text over SMTP with the settings ``MAIL_SERVER``,
``MAIL_PORT``, ``MAIL_SENDER`` and, when set, ``MAIL_USE_TLS`` (STARTTLS), ``MAIL_USERNAME`` and
``MAIL_PASSWORD``. Without ``MAIL_SERVER`` (development) the message is written to the app log
instead. Callers decide what goes into a message; a mail never carries what a student wrote.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy import Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from core.i18n import DEFAULT_LOCALE
from extensions import db
from school.models import UTCDateTime, utcnow

SMTP_TIMEOUT = 10
# Minutes to wait before each new try; then every hour until a day has passed.
RETRY_MINUTES = (1, 5, 15, 30, 60)
GIVE_UP_AFTER = timedelta(days=1)
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
    returns how many were sent. A failure is kept for a later try (see the module's text)."""
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
            # The server is most likely away for the others too: they wait for the next round
            # rather than keep this request (a student's, say) waiting for each time-out.
            break
        mail.sent_at, mail.due_at = now, None
        mail.attempts += 1
        sent += 1
        db.session.commit()
    return sent


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
    with smtplib.SMTP(
        config["MAIL_SERVER"], int(config["MAIL_PORT"]), timeout=SMTP_TIMEOUT
    ) as smtp:
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
