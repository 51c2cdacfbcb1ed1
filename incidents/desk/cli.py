"""Commands of the duty desk: ``flask --app app desk ...``.

- ``escalate`` takes the escalation steps that are due (``incidents.desk.escalation``); a
  scheduler (cron, a systemd timer) runs it every minute. Two at once tell nobody twice.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask.cli import AppGroup

from core.model_types import utcnow
from incidents.desk import escalation

desk_cli = AppGroup("desk", help="The regional duty desk and the escalation chains.")


@desk_cli.command("escalate")
@click.option(
    "--now",
    "now_text",
    default=None,
    help="Pretend it is this moment (ISO 8601, UTC if no zone); for checks and tests.",
)
def escalate_command(now_text: str | None) -> None:
    """Tell the next contact (or the duty desk) of each report nobody has taken up in time."""
    now = utcnow()
    if now_text:
        now = datetime.fromisoformat(now_text)
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
    taken = escalation.run(now)
    click.echo(f"escalation steps taken: {taken}")
