"""Data key rotation: ``flask --app app crypto rotate`` (and ``crypto status``, ``generate-key``).

One file though over 400 lines: the rotation's steps (start, re-encrypt columns and files,
finish) and the commands that run them are one procedure, read from top to bottom.

1. A new key goes first in the ring; the old ones stay, so everything stays readable. With the
   key file the command writes it (every worker re-reads the file and encrypts under the new key
   from then on); with ``QAMQOR_DATA_KEY`` the operator puts a new key first, restarts the app,
   then runs the command.
2. Every encrypted column value and every stored file not under the new key is re-encrypted, in
   committed batches. A row is replaced only if it still holds what was read, so an edit made
   during the rotation is never overwritten (it is picked up by the next pass instead). Values
   stored in clear before encryption at rest are encrypted on the way.
3. After a pause for the writes already under way, passes repeat until one finds nothing left;
   then the old key is *retired*, not dropped: it stays in the file (marked ``# retired <time>``)
   and keeps decrypting. A transaction that encrypted under it before it saw the new key may
   still commit after the last pass (a slow commit, a wait on the audit log's lock); its value
   stays readable, and the next rotation re-encrypts it. If a value cannot be decrypted, the old
   keys stay unretired and the command says where.
4. A key retired at least ``--drop-after`` hours ago (default 24) is dropped by a later rotation,
   once that rotation's passes found nothing left under it and (on PostgreSQL) no transaction
   begun before its retirement is still open: no value can then still arrive under it.

Interrupted, the command can simply be run again: a key after the first that is not retired means
a rotation that did not finish, and it completes that one instead of making another key.
"""

from __future__ import annotations

import base64
import binascii
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import (
    Table,
    Text,
    and_,
    bindparam,
    func,
    or_,
    select,
    text,
    type_coerce,
    update,
)

from core import audit
from core.crypto import (
    HEADER_BYTES,
    KEY_ID_BYTES,
    MAGIC,
    TEXT_PREFIX_CHARS,
    VERSION,
    DecryptionError,
    decode_text,
    encode_key,
    encrypt_bytes,
    encrypt_text,
    encrypted_columns,
    file_stores,
    key_id,
    key_notes,
    keyring,
    new_key,
    read_header,
    text_prefix,
    write_key_file,
)
from extensions import db

crypto_cli = AppGroup("crypto", help="Encryption at rest: data keys.")


@dataclass
class RotationReport:
    key_id: str = ""
    new_key: bool = False
    values: Counter = field(default_factory=Counter)  # "table.column" -> values re-encrypted
    files: int = 0
    plaintext: int = 0  # values and files stored in clear before, now encrypted
    unreadable: set[str] = field(default_factory=set)
    retired: int = 0  # old keys kept for reading only, from this rotation on
    dropped: int = 0  # keys retired long enough ago, removed from the ring
    kept: int = 0  # keys retired before, kept for now (too recently, or an older transaction)
    passes: int = 0


RETIRED = "retired "


def retired_keys() -> dict[bytes, datetime]:
    """The keys of the key file marked retired, with the time they were retired."""
    path = keyring().path
    if path is None or not path.exists():
        return {}
    found = {}
    for kid, note in key_notes(path).items():
        if note.startswith(RETIRED):
            try:
                found[kid] = datetime.fromisoformat(note.removeprefix(RETIRED).strip())
            except ValueError:
                found[kid] = datetime.now(UTC)  # an unreadable time: count it as retired now
    return found


def start_rotation() -> bool:
    """Put a new key first in the key file, unless a rotation is already under way."""
    ring = keyring()
    ring.refresh()
    if ring.path is None:
        if len(ring.keys) < 2:
            raise click.UsageError(
                "The data key comes from QAMQOR_DATA_KEY, which holds one key. Make a new key "
                "(flask --app app crypto generate-key), set QAMQOR_DATA_KEY to the new key "
                "followed by the old one, restart the app, then run this command again."
            )
        return False
    retired = retired_keys()
    if any(kid not in retired for kid in ring.key_ids[1:]):
        return False  # an earlier rotation was interrupted: finish it
    write_key_file(ring.path, [new_key(), *ring.keys], _notes(retired))
    ring.refresh()
    return True


def _notes(retired: dict[bytes, datetime]) -> dict[bytes, str]:
    return {kid: RETIRED + when.isoformat(timespec="seconds") for kid, when in retired.items()}


def _plaintext_of(value: str, context: str, report: RotationReport, where: str) -> str | None:
    blob = decode_text(value)
    if blob is None:
        return value  # stored before encryption at rest
    try:
        return keyring().decrypt(blob, context).decode("utf-8")
    except DecryptionError:
        report.unreadable.add(where)
        return None


def _reencrypt_table(table: Table, columns: list, report: RotationReport, batch_size: int) -> int:
    (pk,) = table.primary_key.columns
    current = text_prefix(keyring().key_ids[0])
    raw = {column.name: type_coerce(column, Text) for column in columns}
    stale = or_(
        *(
            and_(value != "", func.substr(value, 1, TEXT_PREFIX_CHARS) != current)
            for value in raw.values()
        )
    )
    changed, last = 0, None
    while True:
        query = select(pk, *(value.label(name) for name, value in raw.items())).where(stale)
        if last is not None:
            query = query.where(pk > last)
        rows = db.session.execute(query.order_by(pk).limit(batch_size)).all()
        if not rows:
            return changed
        # Rows grouped by the columns they need, each group one executemany UPDATE.
        groups: dict[tuple[str, ...], list[dict]] = {}
        for row in rows:
            params = {"row_id": row[0]}
            for column in columns:
                value = row._mapping[column.name]
                if not value or value.startswith(current):
                    continue
                context = column.type.context
                text = _plaintext_of(value, context, report, f"{context} #{row[0]}")
                if text is None:
                    continue
                # Counted when found: if the app rewrites it meanwhile, it does so encrypted.
                report.plaintext += decode_text(value) is None
                params[f"old_{column.name}"] = value
                params[f"new_{column.name}"] = encrypt_text(text, context)
            names = tuple(name for name in raw if f"new_{name}" in params)
            if names:
                groups.setdefault(names, []).append(params)
        for names, params in groups.items():
            # Replaced only where the row still holds what was read: an edit made meanwhile
            # wins, and the next pass re-encrypts it if it needs to.
            statement = (
                update(table)
                .where(
                    pk == bindparam("row_id"),
                    *(raw[name] == bindparam(f"old_{name}", type_=Text) for name in names),
                )
                .values({name: bindparam(f"new_{name}", type_=Text) for name in names})
            )
            matched = db.session.execute(statement, params).rowcount
            changed += matched * len(names)
            for name in names:
                report.values[f"{table.name}.{name}"] += matched
        db.session.commit()
        last = rows[-1][0]


def reencrypt_columns(report: RotationReport, batch_size: int = 500) -> int:
    """One pass over every encrypted column; returns the number of values re-encrypted."""
    by_table: dict[Table, list] = {}
    for column in encrypted_columns(db.metadata):
        by_table.setdefault(column.table, []).append(column)
    return sum(
        _reencrypt_table(table, columns, report, batch_size) for table, columns in by_table.items()
    )


def _under(head: bytes, kid: bytes) -> bool:
    """Whether a value's first bytes are the header of key ``kid``."""
    return len(kid) == KEY_ID_BYTES and head[:HEADER_BYTES] == MAGIC + bytes([VERSION]) + kid


def reencrypt_files(report: RotationReport) -> int:
    """One pass over every registered file store; returns the number of files re-encrypted."""
    current, changed = keyring().key_ids[0], 0
    for store in file_stores():
        for path, context in store():
            try:
                with path.open("rb") as handle:
                    if _under(handle.read(HEADER_BYTES), current):
                        continue
                data = path.read_bytes()
            except FileNotFoundError:
                continue  # deleted meanwhile
            plain = read_header(data) is None
            if plain:
                clear = data
            else:
                try:
                    clear = keyring().decrypt(data, context)
                except DecryptionError:
                    report.unreadable.add(context)
                    continue
            if _replace_file(path, encrypt_bytes(clear, context)):
                changed += 1
                report.files += 1
                report.plaintext += plain
    return changed


def _replace_file(path: Path, blob: bytes) -> bool:
    temporary = path.with_name(f".{path.name}.rotating")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(blob)
        handle.flush()
        os.fsync(handle.fileno())
    if not path.exists():  # deleted while we worked: do not bring it back
        temporary.unlink()
        return False
    os.replace(temporary, path)
    return True


def _open_since(when: datetime) -> int:
    """How many other transactions of this database began before ``when`` and are still open
    (PostgreSQL; SQLite cannot tell, and relies on the time alone)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return 0
    return db.session.scalar(
        text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND xact_start < :when"
        ),
        {"when": when},
    )


def finish_rotation(report: RotationReport, drop_after: timedelta) -> None:
    """Retire the old keys, once nothing committed is left under them; drop the keys retired
    ``drop_after`` ago or earlier (nothing is under them either: the passes just proved it)."""
    ring = keyring()
    ring.refresh()
    if ring.path is None:
        return
    now = datetime.now(UTC)
    retired = retired_keys()
    keep, notes = [ring.keys[0]], {}
    for key in ring.keys[1:]:
        kid = key_id(key)
        if kid not in retired:
            report.retired += 1
            notes[kid] = now
        elif now - retired[kid] >= drop_after and not _open_since(retired[kid]):
            report.dropped += 1
            continue
        else:
            report.kept += 1
            notes[kid] = retired[kid]
        keep.append(key)
    db.session.rollback()  # no transaction of ours left open
    if report.retired or report.dropped:
        write_key_file(ring.path, keep, _notes(notes))
        ring.refresh()


def rotate(
    batch_size: int = 500, grace: float = 2.0, max_passes: int = 6, drop_after: float = 24.0
) -> RotationReport:
    """Rotate the data key (see the module's description) and report what was done."""
    report = RotationReport(new_key=start_rotation())
    report.key_id = keyring().key_ids[0].hex()
    while True:
        report.unreadable.clear()
        report.passes += 1
        changed = reencrypt_columns(report, batch_size) + reencrypt_files(report)
        if report.passes > 1 and changed == 0:
            break
        if report.passes >= max_passes:
            raise click.ClickException(
                "values keep arriving under an old key; is a worker still running without "
                "the new key? Run the command again."
            )
        time.sleep(grace)  # writes begun before the new key was read finish meanwhile
    if report.unreadable:
        return report  # the old keys stay: nothing may become unreadable by this command
    finish_rotation(report, timedelta(hours=drop_after))
    audit.record(
        "crypto.rotate",
        actor_kind="system",
        key=report.key_id,
        values=sum(report.values.values()),
        files=report.files,
        plaintext=report.plaintext,
        retired=report.retired,
        dropped=report.dropped,
    )
    db.session.commit()
    return report


def key_usage() -> tuple[dict[str, Counter], Counter]:
    """How many values and files are under each key ("clear": stored before encryption)."""

    def name(prefix: str) -> str:
        try:
            head = base64.b64decode(prefix, validate=True)
        except (binascii.Error, ValueError):
            return "clear"
        return head[2:].hex() if _under(head, head[2:]) else "clear"

    columns: dict[str, Counter] = {}
    for column in encrypted_columns(db.metadata):
        raw = type_coerce(column, Text)
        prefix = func.substr(raw, 1, TEXT_PREFIX_CHARS)
        rows = db.session.execute(
            select(prefix, func.count()).where(raw != "").group_by(prefix)
        ).all()
        counts: Counter = Counter()
        for found, count in rows:
            counts[name(found)] += count
        columns[column.type.context] = counts
    files: Counter = Counter()
    for store in file_stores():
        for path, _context in store():
            try:
                with path.open("rb") as handle:
                    head = handle.read(HEADER_BYTES)
            except FileNotFoundError:
                continue
            files[head[2:].hex() if _under(head, head[2:]) else "clear"] += 1
    return columns, files


@crypto_cli.command("generate-key")
def generate_key_command() -> None:
    """Print a new random data key (base64), for QAMQOR_DATA_KEY."""
    click.echo(encode_key(new_key()))


@crypto_cli.command("status")
def status_command() -> None:
    """Count the stored values and files under each data key."""
    ring = keyring()
    ring.refresh()
    retired = retired_keys()
    ids = [
        kid.hex() + (f" (retired {retired[kid]:%Y-%m-%d %H:%M} UTC)" if kid in retired else "")
        for kid in ring.key_ids
    ]
    click.echo(f"key ring: {', '.join(ids)} (current {ids[0] if ids else 'none'})")
    known = {kid.hex() for kid in ring.key_ids} | {"clear"}
    columns, files = key_usage()
    lost = 0
    for context, counts in columns.items():
        if counts:
            click.echo(f"{context}: " + ", ".join(f"{n} under {k}" for k, n in counts.items()))
        lost += sum(n for k, n in counts.items() if k not in known)
    click.echo("files: " + (", ".join(f"{n} under {k}" for k, n in files.items()) or "none"))
    lost += sum(n for k, n in files.items() if k not in known)
    if lost:
        click.echo(
            f"unreadable: {lost} under keys not in the key ring (shown as unreadable; restore "
            "the key from a backup to read them)",
            err=True,
        )


@crypto_cli.command("rotate")
@click.option("--batch-size", default=500, show_default=True, help="Rows per transaction.")
@click.option(
    "--grace",
    default=2.0,
    show_default=True,
    help="Seconds to wait for writes begun under the old key before the last pass.",
)
@click.option(
    "--drop-after",
    default=24.0,
    show_default=True,
    help="Hours a key stays retired (readable) before a later rotation may drop it.",
)
def rotate_command(batch_size: int, grace: float, drop_after: float) -> None:
    """Make a new data key, re-encrypt every value and file under it, retire the old key, and
    drop the keys retired long enough ago."""
    report = rotate(batch_size=batch_size, grace=grace, drop_after=drop_after)
    click.echo(
        f"data key {report.key_id}: " + ("new" if report.new_key else "finishing a rotation")
    )
    for context, count in sorted(report.values.items()):
        click.echo(f"{context}: {count} re-encrypted")
    click.echo(f"values re-encrypted: {sum(report.values.values())}")
    click.echo(f"files re-encrypted: {report.files}")
    if report.plaintext:
        click.echo(f"stored in clear before, now encrypted: {report.plaintext}")
    if report.unreadable:
        click.echo(
            "cannot decrypt (changed, moved or under an unknown key), old keys kept: "
            + ", ".join(sorted(report.unreadable)),
            err=True,
        )
        raise SystemExit(1)
    if keyring().path is None:
        click.echo(
            "keep the old keys after the new one in QAMQOR_DATA_KEY: a write begun before the "
            "restart may still be under them. Remove them at the next rotation, a day or more "
            "later, once `crypto status` shows nothing under them."
        )
    else:
        click.echo(f"old keys retired (still read): {report.retired}")
        click.echo(f"retired keys dropped: {report.dropped}")
        if report.kept:
            click.echo(
                f"retired keys kept for now: {report.kept} (retired less than {drop_after:g} "
                "hours ago, or a transaction begun before is still open)"
            )


def init_app(app: Flask) -> None:
    app.cli.add_command(crypto_cli)
