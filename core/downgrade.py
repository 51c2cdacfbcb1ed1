"""``flask --app app db downgrade``, guarded.

A downgrade drops what later migrations added, with its data: ``downgrade -1`` can drop the mail
outbox with notices not yet sent, ``downgrade base`` every report. Flask-Migrate's command is
wrapped here: it says what the database holds, asks before it changes anything (``--yes``
confirms without a question; with no answer it changes nothing), then takes a backup exactly as
``flask --app app backup create`` does (``instance/backups/<time>``) and only then downgrades. A
failed backup stops it. ``--sql`` only prints the SQL, and needs neither.
"""

from __future__ import annotations

import click
from flask import Flask
from flask_migrate.cli import db as migrate_group
from sqlalchemy import inspect, text

from core import backup
from extensions import db

# What a downgrade can lose, as (table, condition, what it is).
HOLDINGS = (
    ("reports", "", "reports"),
    ("cases", "", "cases"),
    ("mail_outbox", "WHERE due_at IS NOT NULL", "notices not yet sent"),
    ("users", "", "staff accounts"),
)


def holdings() -> list[str]:
    """What the database holds that a downgrade could drop ("3 reports", ...)."""
    tables = set(inspect(db.engine).get_table_names())
    found = []
    with db.engine.connect() as connection:
        for table, condition, what in HOLDINGS:
            if table in tables:
                count = connection.scalar(text(f"SELECT count(*) FROM {table} {condition}"))  # noqa: S608 - fixed names
                if count:
                    found.append(f"{count} {what}")
    return found


downgrade = migrate_group.commands["downgrade"]


@click.pass_context
def _guarded(ctx: click.Context, yes: bool, **options) -> None:
    if not options["sql"]:
        held = holdings()
        click.echo(
            f"Downgrading to {options['revision']} drops the tables and columns that later "
            "migrations added, with what they hold. The database holds: "
            + (", ".join(held) or "nothing yet")
            + "."
        )
        if not yes and not click.confirm("Take a backup, then downgrade?", default=False, err=True):
            click.echo("Nothing was changed.", err=True)
            ctx.exit(1)
        ctx.invoke(backup.create_command)  # raises, and nothing is downgraded, if it fails
    ctx.invoke(downgrade, **options)


guarded_downgrade = click.Command(
    "downgrade",
    callback=_guarded,
    params=[
        *downgrade.params,
        click.Option(
            ["--yes"],
            is_flag=True,
            help="Downgrade without asking (a backup is still taken first).",
        ),
    ],
    help="Revert to a previous version, after a question and a backup (instance/backups/<time>).",
)


def init_app(app: Flask) -> None:
    """Replace Flask-Migrate's ``db`` group by one whose ``downgrade`` is guarded."""
    group = click.Group(
        "db",
        commands={**migrate_group.commands, "downgrade": guarded_downgrade},
        params=migrate_group.params,
        callback=migrate_group.callback,
        help=migrate_group.help,
    )
    app.cli.add_command(group, "db")
