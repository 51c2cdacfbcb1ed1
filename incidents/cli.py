"""Commands of the response workflow: ``flask --app app incidents ...``.

- ``load-referral-rules`` loads the shipped rules table (idempotent; run after each upgrade).
- ``notify-overdue`` tells school administrators what is overdue, once per item (reports,
  referrals not sent or not answered by the body, duties by law); a referral the body has not
  answered is told to the region's desk officers too. A scheduler (cron, a systemd timer) runs
  it every few minutes.
- ``purge`` empties the texts and deletes the files of cases closed longer ago than
  ``RETENTION_DAYS_CLOSED_CASES`` (``incidents.cases.retention``); a scheduler runs it daily.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask import Flask
from flask.cli import AppGroup

from core.model_types import utcnow
from incidents.cases import overdue, retention
from incidents.referrals import services as referrals

incidents_cli = AppGroup("incidents", help="Reports, cases and referrals.")


@incidents_cli.command("load-referral-rules")
@click.option("--reset", is_flag=True, help="Also restore shipped rules an administrator edited.")
def load_referral_rules_command(reset: bool) -> None:
    """Load or update the referral rules shipped in incidents/referrals/data/referral_rules.csv."""
    added, updated = referrals.load_rules(reset=reset)
    click.echo(f"referral rules: {added} added, {updated} updated")


@incidents_cli.command("notify-overdue")
@click.option(
    "--now",
    "now_text",
    default=None,
    help="Pretend it is this moment (ISO 8601, UTC if no zone); for checks and tests.",
)
def notify_overdue_command(now_text: str | None) -> None:
    """Notify school administrators (and, for unanswered referrals, the region's desk) of
    overdue reports, referrals and duties by law (once each)."""
    now = utcnow()
    if now_text:
        now = datetime.fromisoformat(now_text)
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
    sent = overdue.notify_overdue(now)
    click.echo(f"overdue notices sent: {sent}")


@incidents_cli.command("purge")
@click.option("--dry-run", is_flag=True, help="Count what would be removed; change nothing.")
def purge_command(dry_run: bool) -> None:
    """Purge the texts and files of cases closed longer ago than the retention period."""
    days = retention.retention_days()
    result = retention.purge_closed_cases(days=days, dry_run=dry_run)
    click.echo(f"retention: cases closed more than {days} days ago")
    click.echo(f"closed cases purged: {result.cases}" + (" (dry run)" if dry_run else ""))
    click.echo(f"message texts emptied: {result.messages}")
    click.echo(f"other texts emptied: {result.texts}")
    click.echo(f"attachments deleted: {result.files}")
    click.echo(f"unreferenced files deleted: {result.orphan_files}")
    if dry_run:
        click.echo("dry run: nothing was changed")


def init_app(app: Flask) -> None:
    app.cli.add_command(incidents_cli)
