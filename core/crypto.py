"""Encryption at rest: AES-256-GCM for what children and staff wrote, with keys kept outside
the database.

One file though over 400 lines: the key ring, the cipher, the column type and the start-up check
share one format of what is stored; rotating the keys lives in ``core.rotation``.

Keys. ``DATA_KEY`` in the configuration (``QAMQOR_DATA_KEY``: base64 of 32 bytes; several keys
separated by commas or spaces, newest first), or else the file ``<instance>/data_key`` (one base64
key a line, newest first; ``#`` starts a comment), generated on the first start (mode 0600) when
the database holds nothing encrypted yet. The first key encrypts; every key of the ring decrypts,
so that ``flask --app app crypto rotate`` (``core.rotation``) can re-encrypt while the app keeps
running. The ring re-reads the file when it changes, so every worker picks up a new key.

A value is ``b"Q" | version (1 byte) | key id (4 bytes) | nonce (12 bytes) | ciphertext + tag``.
Columns (``EncryptedText``) hold it in base64, whose first 8 characters name the key, so that SQL
alone finds what is still under an old key; files hold it as bytes. The associated data is the
header and the value's place (``"reports.description"``, ``"uploads/<name>"``), so a value moved
to another column, row of another column, or file fails to decrypt instead of showing up there.
An empty text stays empty (a purged or unwritten field), so ``column == ""`` still works in SQL.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Flask, current_app
from flask_babel import gettext
from sqlalchemy import Column, MetaData, Text, func, literal, select, type_coerce
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.types import TypeDecorator

MAGIC = b"Q"
VERSION = 1
KEY_BYTES = 32
KEY_ID_BYTES = 4
NONCE_BYTES = 12
TAG_BYTES = 16
HEADER_BYTES = len(MAGIC) + 1 + KEY_ID_BYTES
# Base64 turns each 3 bytes into 4 characters: the 6 header bytes are the first 8 characters.
TEXT_PREFIX_CHARS = HEADER_BYTES * 4 // 3
KEY_FILE = "data_key"
EXTENSION = "qamqor.keyring"
FILE_STORES = "qamqor.file_stores"

log = logging.getLogger(__name__)


class DataKeyError(RuntimeError):
    """The keys are missing, malformed or do not match the database: the app must not start."""


class DecryptionError(Exception):
    """A stored value could not be decrypted: changed, moved, or under a key not in the ring."""


class UnknownKeyError(DecryptionError):
    """A stored value is under a data key that is not in the ring (lost, or dropped too soon)."""


class Unreadable(str):
    """What an ``EncryptedText`` column reads for a value under an unknown key: a message for
    the reader in place of the text, so that one such value does not stop the page or the app.
    It is never written back (that would destroy the value that the right key could still read).
    """


def key_id(key: bytes) -> bytes:
    """A short public name of a key (a hash of it), stored in each value's header."""
    return hashlib.sha256(b"qamqor data key id\x00" + key).digest()[:KEY_ID_BYTES]


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def encode_key(key: bytes) -> str:
    return base64.b64encode(key).decode("ascii")


def parse_keys(text: str, source: str) -> list[bytes]:
    """Keys from a file's lines or a setting (commas or spaces between keys), newest first."""
    keys = []
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        for item in re.split(r"[\s,]+", line.strip()):
            if not item:
                continue
            try:
                key = base64.b64decode(item, validate=True)
            except (binascii.Error, ValueError):
                key = b""
            if len(key) != KEY_BYTES:
                raise DataKeyError(
                    f"{source}: each data key must be the base64 of {KEY_BYTES} random bytes "
                    "(make one with `flask --app app crypto generate-key`)"
                )
            keys.append(key)
    return keys


def write_key_file(path: Path, keys: list[bytes], notes: dict[bytes, str] | None = None) -> None:
    """Replace the key file atomically (0600): a reader sees the old ring or the new one.
    ``notes`` (by key id) are written as a comment after their key (``core.rotation`` marks
    retired keys so)."""
    notes = notes or {}
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("# Qamqor data keys, newest first. Keep a copy apart from the database.\n")
        for key in keys:
            note = notes.get(key_id(key))
            handle.write(encode_key(key) + (f"  # {note}" if note else "") + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


@dataclass(frozen=True)
class Header:
    version: int
    key_id: bytes


def key_notes(path: Path) -> dict[bytes, str]:
    """The comments written after the keys of a key file, by key id."""
    notes = {}
    for line in path.read_text().splitlines():
        item, _hash, note = line.partition("#")
        if item.strip() and note.strip():
            notes[key_id(parse_keys(item, str(path))[0])] = note.strip()
    return notes


def read_header(blob: bytes) -> Header | None:
    """The header of an encrypted value, or None when the bytes are not one."""
    if len(blob) < HEADER_BYTES + NONCE_BYTES + TAG_BYTES or not blob.startswith(MAGIC):
        return None
    version = blob[len(MAGIC)]
    if version != VERSION:
        return None
    return Header(version, blob[len(MAGIC) + 1 : HEADER_BYTES])


def text_prefix(kid: bytes) -> str:
    """The first characters of every column value encrypted under the key ``kid``."""
    return base64.b64encode(MAGIC + bytes([VERSION]) + kid).decode("ascii")


def decode_text(stored: str) -> bytes | None:
    """The bytes of a stored column value, or None when it is not an encrypted value."""
    try:
        blob = base64.b64decode(stored, validate=True)
    except (binascii.Error, ValueError):
        return None
    return blob if read_header(blob) is not None else None


class Keyring:
    """The current key (first) and the older ones still accepted for reading."""

    def __init__(self, keys: list[bytes], path: Path | None = None) -> None:
        self.path = path  # None: the keys come from the configuration and never change
        self._stamp: tuple[int, int, int] | None = None
        self._set(keys)

    def _set(self, keys: list[bytes]) -> None:
        ciphers = {}
        for key in keys:
            kid = key_id(key)
            if kid in ciphers:
                raise DataKeyError("two data keys of the ring have the same id; remove one")
            ciphers[kid] = AESGCM(key)
        # One assignment, so that a thread reading meanwhile sees the old ring or the new one.
        self._state = (list(keys), ciphers)

    @classmethod
    def from_file(cls, path: Path) -> Keyring:
        ring = cls([], path)
        ring.refresh()
        return ring

    @property
    def keys(self) -> list[bytes]:
        return list(self._state[0])

    @property
    def key_ids(self) -> list[bytes]:
        return [key_id(key) for key in self._state[0]]

    def refresh(self) -> None:
        """Re-read the key file when it changed (another process rotated the keys)."""
        if self.path is None:
            return
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return
        stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        if stamp != self._stamp:
            self._set(parse_keys(self.path.read_text(), str(self.path)))
            self._stamp = stamp

    def ensure_key(self) -> None:
        """Generate the key file if there is none yet (first start of a new installation)."""
        self.refresh()
        if self._state[0] or self.path is None:
            return
        key = new_key()
        temporary = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(encode_key(key) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, self.path)  # fails if another worker made it first: use theirs
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
        self.refresh()

    def current(self) -> tuple[bytes, AESGCM]:
        self.refresh()
        keys, ciphers = self._state
        if not keys:
            self.ensure_key()
            keys, ciphers = self._state
        if not keys:
            raise DataKeyError("no data key: set QAMQOR_DATA_KEY")
        kid = key_id(keys[0])
        return kid, ciphers[kid]

    def cipher(self, kid: bytes) -> AESGCM | None:
        self.refresh()  # a key added or dropped by a rotation in another process (one stat)
        return self._state[1].get(kid)

    def encrypt(self, plaintext: bytes, context: str) -> bytes:
        kid, cipher = self.current()
        header = MAGIC + bytes([VERSION]) + kid
        nonce = secrets.token_bytes(NONCE_BYTES)
        return header + nonce + cipher.encrypt(nonce, plaintext, header + context.encode())

    def decrypt(self, blob: bytes, context: str) -> bytes:
        header = read_header(blob)
        if header is None:
            raise DecryptionError(f"{context}: the stored value is not encrypted")
        cipher = self.cipher(header.key_id)
        if cipher is None:
            raise UnknownKeyError(
                f"{context}: encrypted with data key {header.key_id.hex()}, which is not in the "
                "key ring (a lost key file or a wrong QAMQOR_DATA_KEY)"
            )
        nonce = blob[HEADER_BYTES : HEADER_BYTES + NONCE_BYTES]
        try:
            return cipher.decrypt(
                nonce, blob[HEADER_BYTES + NONCE_BYTES :], blob[:HEADER_BYTES] + context.encode()
            )
        except InvalidTag:
            raise DecryptionError(
                f"{context}: the stored value failed its integrity check (changed or moved)"
            ) from None


def keyring() -> Keyring:
    return current_app.extensions[EXTENSION]


def encrypt_text(value: str, context: str) -> str:
    if value == "":
        return ""
    blob = keyring().encrypt(value.encode("utf-8"), context)
    return base64.b64encode(blob).decode("ascii")


def decrypt_text(stored: str, context: str) -> str:
    if stored == "":
        return ""
    blob = decode_text(stored)
    if blob is None:
        raise DecryptionError(f"{context}: the stored value is not encrypted")
    return keyring().decrypt(blob, context).decode("utf-8")


def encrypt_bytes(data: bytes, context: str) -> bytes:
    return keyring().encrypt(data, context)


def decrypt_bytes(blob: bytes, context: str) -> bytes:
    return keyring().decrypt(blob, context)


class EncryptedText(TypeDecorator):
    """A text column stored encrypted (base64 ``TEXT`` in SQL); ``context`` is its
    ``"table.column"``, the associated data that binds each value to its column."""

    impl = Text
    cache_ok = True

    def __init__(self, context: str) -> None:
        super().__init__()
        self.context = context

    def process_bind_param(self, value, dialect):  # noqa: ARG002
        if value is None:
            return None
        if isinstance(value, Unreadable):
            raise DecryptionError(f"{self.context}: an unreadable value cannot be saved again")
        return encrypt_text(str(value), self.context)

    def process_result_value(self, value, dialect):  # noqa: ARG002
        if value is None:
            return None
        try:
            return decrypt_text(value, self.context)
        except UnknownKeyError as error:
            # One value lost to a key the ring lacks: say so in its place, keep serving.
            log.error("%s; shown as unreadable (see `flask --app app crypto status`)", error)
            return Unreadable(
                gettext(
                    "This text cannot be shown: it was saved with an encryption key that this "
                    "server does not have. The problem is recorded for the administrators, who "
                    "can restore the key from a backup."
                )
            )

    def coerce_compared_value(self, op, value):
        # Each value has its own nonce, so SQL can compare an encrypted column only with "" (an
        # empty text is stored empty); anything else would silently match nothing.
        if value in ("", None):
            return self
        raise TypeError(f"{self.context} is encrypted: it cannot be compared or searched in SQL")


def encrypted_columns(metadata: MetaData) -> list[Column]:
    """Every ``EncryptedText`` column of the schema, table by table."""
    return [
        column
        for table in metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, EncryptedText)
    ]


def check_database(app: Flask) -> None:
    """At start-up, once every package's models are known: refuse to run with a key ring that
    cannot read the database (a lost key file, a wrong ``DATA_KEY``), rather than fail on
    every page later; generate the first key when the database holds nothing encrypted.

    Only a ring that reads nothing of the database stops the app. Values under an unknown key
    next to values the ring reads (one value lost to a key dropped too soon) are logged and
    shown as unreadable in their place (``Unreadable``); ``crypto status`` counts them."""
    from extensions import db

    ring: Keyring = app.extensions[EXTENSION]
    ring.refresh()
    if not app.config.get("DATA_KEY_CHECK", True):
        ring.ensure_key()
        return
    unknown: list[str] = []
    plain: list[str] = []
    readable = False
    with app.app_context():
        try:
            with db.engine.connect() as connection:
                columns = encrypted_columns(db.metadata)
                for column in columns:
                    raw = type_coerce(column, Text)
                    # The newest value, found through the primary key's index.
                    newest = [key.desc() for key in column.table.primary_key.columns]
                    value = connection.scalar(
                        select(raw).where(raw.is_not(None), raw != "").order_by(*newest).limit(1)
                    )
                    if value is None:
                        continue
                    blob = decode_text(value)
                    if blob is None:
                        plain.append(column.type.context)
                    elif read_header(blob).key_id not in ring.key_ids:
                        unknown.append(
                            f"{column.type.context} (key {read_header(blob).key_id.hex()})"
                        )
                    else:
                        readable = True
                if unknown and not readable and ring.key_ids:
                    # Is anything at all under a key of the ring? (Stops at the first found.)
                    prefixes = [text_prefix(kid) for kid in ring.key_ids]
                    for column in columns:
                        start = func.substr(type_coerce(column, Text), 1, TEXT_PREFIX_CHARS)
                        found = connection.scalar(
                            select(literal(1)).where(start.in_(prefixes)).limit(1)
                        )
                        if found:
                            readable = True
                            break
        except SQLAlchemyError:
            # No database yet, or an older schema before ``flask db upgrade``: nothing to check.
            pass
        finally:
            db.engine.dispose()
    if unknown and not readable:
        where = f"the file {ring.path}" if ring.path else "QAMQOR_DATA_KEY"
        raise DataKeyError(
            "The database holds encrypted data that the data keys cannot read: "
            + ", ".join(unknown)
            + f". Keys were looked for in {where}. Restore the key file from the backup (a backup "
            "folder keeps it as instance/data_key) or set QAMQOR_DATA_KEY to the right key. "
            "Set QAMQOR_DATA_KEY_CHECK=false only to run a command such as `backup restore`."
        )
    if unknown:
        log.error(
            "values under a data key that is not in the key ring: %s. They are shown as "
            "unreadable; everything else is served. Restore the key from a backup "
            "(`flask --app app crypto status` counts them).",
            ", ".join(unknown),
        )
    if plain:
        log.warning(
            "values stored before encryption at rest: %s; run `flask --app app crypto rotate`",
            ", ".join(plain),
        )
    ring.ensure_key()


def init_app(app: Flask) -> None:
    configured = app.config.get("DATA_KEY")
    if configured:
        keys = parse_keys(str(configured), "QAMQOR_DATA_KEY")
        ring = Keyring(keys)
        if not keys:
            raise DataKeyError("QAMQOR_DATA_KEY is empty")
    else:
        ring = Keyring.from_file(Path(app.instance_path) / KEY_FILE)
    app.extensions[EXTENSION] = ring
    app.extensions[FILE_STORES] = []


def register_file_store(app: Flask, files: Callable[[], Iterable[tuple[Path, str]]]) -> None:
    """A package's store of encrypted files: ``files()`` yields each file's path and context;
    the key rotation re-encrypts them."""
    app.extensions[FILE_STORES].append(files)


def file_stores() -> list[Callable[[], Iterable[tuple[Path, str]]]]:
    return list(current_app.extensions[FILE_STORES])
