"""Backup and restore (``flask --app app backup create|restore``).

SQLite: the online backup API copies a consistent snapshot while the app keeps running.
PostgreSQL: ``pg_dump`` in its custom format and ``pg_restore`` (both must be installed).
The instance's keys and upload store are copied next to the database, in one archive folder.
A backup holds every report (and, with the key file, the key to read them): its folders are made
0700 and its files 0600 (a umask while writing, then a check of every item, since copies keep
the modes of their source); a restore puts the instance items back the same way.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.engine import make_url

from core import audit
from extensions import db

backup_cli = AppGroup("backup", help="Back up and restore the database and the file store.")
# Files of the instance folder that belong to a backup (keys and the upload store). The audit
# log's anchor is saved too, read before the database is copied (see ``_write_backup``).
INSTANCE_ITEMS = ("secret_key", "receipt_pepper", "data_key", "audit_key", "uploads")


def _libpq_url(url) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def owner_only() -> Iterator[None]:
    """Everything created meanwhile is readable by the owner only (0700 folders, 0600 files)."""
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


def restrict(root: Path) -> None:
    """Make ``root`` and everything under it the owner's alone (copies keep their source's mode)."""
    root.chmod(0o700 if root.is_dir() else 0o600)
    if root.is_dir():
        for folder, folders, files in os.walk(root):
            for name in folders:
                Path(folder, name).chmod(0o700)
            for name in files:
                Path(folder, name).chmod(0o600)


def create_backup(target: Path) -> Path:
    """Write a backup folder, readable by the owner only; returns its path."""
    with owner_only():
        _write_backup(target)
    restrict(target)
    return target


def _write_backup(target: Path) -> None:
    target.mkdir(parents=True, exist_ok=False)
    instance = Path(current_app.instance_path)
    # The anchor before the database: it names an entry committed before, so the copy holds it.
    anchor = instance / audit.ANCHOR_FILE
    anchor_text = anchor.read_text() if anchor.exists() else None
    # The school chains' anchors too (core.audit), before the database for the same reason.
    (target / "instance").mkdir()
    if (instance / audit.ANCHOR_DIR).is_dir():
        shutil.copytree(
            instance / audit.ANCHOR_DIR,
            target / "instance" / audit.ANCHOR_DIR,
            ignore=shutil.ignore_patterns(".*"),
        )
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(url.database)
        destination = sqlite3.connect(target / "database.sqlite3")
        with destination:
            source.backup(destination)
        destination.close()
        source.close()
    else:
        command = [
            "pg_dump",
            "--format=custom",
            "--no-owner",
            "--file",
            str(target / "database.dump"),
            _libpq_url(url),
        ]
        subprocess.run(command, check=True)  # noqa: S603 - fixed program, our own URL
    if anchor_text is not None:
        (target / "instance" / audit.ANCHOR_FILE).write_text(anchor_text)
    for name in INSTANCE_ITEMS:
        item = instance / name
        if item.is_dir():
            shutil.copytree(item, target / "instance" / name)
        elif item.exists():
            shutil.copy2(item, target / "instance" / name)
    (target / "CREATED").write_text(datetime.now(UTC).isoformat() + "\n")


def restore_backup(source: Path) -> None:
    """Replace the database and the instance items with those of a backup folder; the restored
    instance items are the owner's alone, whatever the backup's copy allowed."""
    with owner_only():
        _restore(source)


def _restore(source: Path) -> None:
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    db.session.remove()
    db.engine.dispose()
    if url.get_backend_name() == "sqlite":
        backup = sqlite3.connect(source / "database.sqlite3")
        live = sqlite3.connect(url.database)
        with live:
            backup.backup(live)
        live.close()
        backup.close()
    else:
        command = [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--dbname",
            _libpq_url(url),
            str(source / "database.dump"),
        ]
        subprocess.run(command, check=True)  # noqa: S603 - fixed program, our own URL
    instance = Path(current_app.instance_path)
    saved = source / "instance"
    # The restored log ends where the backup's does: the live anchor would call that a cut.
    (instance / audit.ANCHOR_FILE).unlink(missing_ok=True)
    shutil.rmtree(instance / audit.ANCHOR_DIR, ignore_errors=True)
    if saved.is_dir():
        for item in saved.iterdir():
            destination = instance / item.name
            if item.is_dir():
                shutil.rmtree(destination, ignore_errors=True)
                shutil.copytree(item, destination)
            else:
                shutil.copy2(item, destination)
            restrict(destination)


@backup_cli.command("create")
@click.argument("target", type=click.Path(path_type=Path), required=False)
def create_command(target: Path | None) -> None:
    """Back up into TARGET (default: instance/backups/<time>)."""
    if target is None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        folder = Path(current_app.instance_path) / "backups"
        with owner_only():
            folder.mkdir(exist_ok=True)
        folder.chmod(0o700)  # made by an older version with the default umask
        target = folder / stamp
    click.echo(f"backup written to {create_backup(target)}")


@backup_cli.command("restore")
@click.argument("source", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.confirmation_option(prompt="This replaces the current database and files. Continue?")
def restore_command(source: Path) -> None:
    """Restore the database and files from SOURCE."""
    restore_backup(source)
    click.echo(f"restored from {source}")


def init_app(app) -> None:
    app.cli.add_command(backup_cli)
