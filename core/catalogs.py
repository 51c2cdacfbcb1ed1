"""Translator tools: list what a catalog lacks and merge translations in (``flask i18n ...``).

The catalogs are edited by several people at once, so every write takes a lock file.
"""

from __future__ import annotations

import fcntl
import json
from contextlib import contextmanager
from pathlib import Path

import click
from babel.messages.pofile import read_po, write_po
from flask import current_app
from flask.cli import AppGroup

from core.i18n import LOCALES

i18n_cli = AppGroup("i18n", help="Translation catalogs.")


def catalog_path(locale: str) -> Path:
    return Path(current_app.root_path) / "translations" / locale / "LC_MESSAGES" / "messages.po"


@contextmanager
def locked(path: Path):
    # The same lock file as ``make catalogs``.
    with (path.parents[2] / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def load(locale: str):
    with catalog_path(locale).open("rb") as handle:
        return read_po(handle, locale=locale)


def save(locale: str, catalog) -> None:
    path = catalog_path(locale)
    tmp = path.with_suffix(".po.tmp")
    with tmp.open("wb") as handle:
        write_po(handle, catalog, omit_header=False, no_location=True, ignore_obsolete=True)
    tmp.replace(path)


def missing(locale: str) -> dict:
    """Untranslated or fuzzy entries: {msgid: ""} or {msgid: ["", ...]} for plurals (by id)."""
    result: dict = {}
    for message in load(locale):
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            key = message.id[0] if isinstance(message.id, tuple) else message.id
            if isinstance(message.id, tuple):
                result[key] = {"plural": message.id[1], "forms": list(strings)}
            else:
                result[key] = ""
    return result


@i18n_cli.command("missing")
@click.option("--locale", type=click.Choice(LOCALES), required=True)
def missing_command(locale: str) -> None:
    """Print the untranslated entries of a catalog as JSON (msgid -> "")."""
    click.echo(json.dumps(missing(locale), ensure_ascii=False, indent=1))


@i18n_cli.command("fill")
@click.option("--locale", type=click.Choice(LOCALES), required=True)
@click.argument("source", type=click.File("r", encoding="utf-8"))
def fill_command(locale: str, source) -> None:
    """Merge translations from a JSON file {msgid: "text" or [plural forms]} into a catalog."""
    translations = json.load(source)
    with locked(catalog_path(locale)):
        catalog = load(locale)
        filled = unknown = 0
        for msgid, text in translations.items():
            message = next(
                (
                    m
                    for m in catalog
                    if m.id == msgid or (isinstance(m.id, tuple) and m.id[0] == msgid)
                ),
                None,
            )
            if message is None or not text:
                unknown += 1
                continue
            if isinstance(message.id, tuple):
                forms = text["forms"] if isinstance(text, dict) else text
                message.string = tuple(forms)
            else:
                message.string = text
            message.flags.discard("fuzzy")
            filled += 1
        save(locale, catalog)
    click.echo(f"{locale}: {filled} filled, {unknown} unknown or empty")


def init_app(app) -> None:
    app.cli.add_command(i18n_cli)
