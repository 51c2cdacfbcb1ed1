"""AES-256-GCM at rest (core.crypto): round trips, tampering, keys from the file or the setting."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from sqlalchemy import Text

from app import create_app
from core import crypto
from core.crypto import DataKeyError, DecryptionError, EncryptedText


def test_text_round_trips_with_a_fresh_nonce_each_time(app):
    text = "Ол мені итеріп жіберді. Әжеме айтпа. 😢"
    first = crypto.encrypt_text(text, "reports.description")
    second = crypto.encrypt_text(text, "reports.description")
    assert first != second  # a random nonce per value: equal texts do not look equal
    assert text not in first and "итеріп" not in base64.b64decode(first).decode("latin-1")
    assert crypto.decrypt_text(first, "reports.description") == text
    assert crypto.decrypt_text(second, "reports.description") == text
    assert first.startswith(crypto.text_prefix(crypto.keyring().key_ids[0]))


def test_bytes_round_trip_and_carry_the_header(app):
    data = os.urandom(5000)
    blob = crypto.encrypt_bytes(data, "uploads/ab")
    assert crypto.read_header(blob).key_id == crypto.keyring().key_ids[0]
    assert len(blob) == len(data) + crypto.HEADER_BYTES + crypto.NONCE_BYTES + crypto.TAG_BYTES
    assert crypto.decrypt_bytes(blob, "uploads/ab") == data


@pytest.mark.parametrize(
    "position",
    [1, 3, crypto.HEADER_BYTES, crypto.HEADER_BYTES + crypto.NONCE_BYTES + 2, -1],
    ids=["version", "key id", "nonce", "ciphertext", "tag"],
)
def test_a_changed_byte_anywhere_is_detected(app, position):
    blob = bytearray(crypto.encrypt_bytes(b"what the child wrote", "messages.body"))
    blob[position] ^= 0x01
    with pytest.raises(DecryptionError):
        crypto.decrypt_bytes(bytes(blob), "messages.body")


def test_a_value_cannot_be_read_in_another_place(app):
    stored = crypto.encrypt_text("Баяндама", "cases.narrative")
    with pytest.raises(DecryptionError, match="integrity"):
        crypto.decrypt_text(stored, "messages.body")
    blob = crypto.encrypt_bytes(b"%PDF-1.4", "uploads/aa")
    with pytest.raises(DecryptionError):
        crypto.decrypt_bytes(blob, "uploads/bb")


def test_a_truncated_or_clear_value_is_refused(app):
    stored = crypto.encrypt_text("Баяндама", "cases.narrative")
    with pytest.raises(DecryptionError, match="not encrypted"):
        crypto.decrypt_text(stored[:20], "cases.narrative")
    with pytest.raises(DecryptionError, match="not encrypted"):
        crypto.decrypt_text("written before encryption", "cases.narrative")


def test_the_column_type_keeps_empty_and_null_as_they_are(app):
    column = EncryptedText("cases.narrative")
    assert column.process_bind_param(None, None) is None
    assert column.process_bind_param("", None) == ""
    assert column.process_result_value("", None) == ""
    stored = column.process_bind_param("Баяндама", None)
    assert stored != "Баяндама" and column.process_result_value(stored, None) == "Баяндама"
    assert isinstance(column.impl_instance, Text)  # plain TEXT in SQL


def test_the_key_file_is_generated_once_with_mode_0600(app):
    path = Path(app.instance_path) / crypto.KEY_FILE
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    [key] = crypto.parse_keys(path.read_text(), str(path))
    stored = crypto.encrypt_text("Сақталады", "t.c")
    again = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "SECRET_KEY": "test",
            "INSTANCE_PATH": app.instance_path,
        }
    )
    with again.app_context():
        assert crypto.keyring().keys == [key]
        assert crypto.decrypt_text(stored, "t.c") == "Сақталады"


def test_a_configured_key_is_used_and_no_file_is_written(app, tmp_path):
    key = crypto.new_key()
    configured = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "SECRET_KEY": "test",
            "INSTANCE_PATH": str(tmp_path / "configured"),
            "DATA_KEY": crypto.encode_key(key),
        }
    )
    assert not (tmp_path / "configured" / crypto.KEY_FILE).exists()
    with configured.app_context():
        blob = crypto.encrypt_bytes(b"x", "t.c")
        assert crypto.read_header(blob).key_id == crypto.key_id(key)


@pytest.mark.parametrize("value", ["short", base64.b64encode(b"x" * 16).decode(), "!!!"])
def test_a_malformed_configured_key_stops_the_app(app, tmp_path, value):
    with pytest.raises(DataKeyError, match="base64 of 32 random bytes"):
        create_app(
            {
                "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                "SECRET_KEY": "test",
                "INSTANCE_PATH": str(tmp_path / "bad"),
                "DATA_KEY": value,
            }
        )


def test_a_key_written_by_another_process_is_picked_up(app):
    ring = crypto.keyring()
    [old] = ring.keys
    before = crypto.encrypt_text("Бұрынғы", "t.c")
    newer = crypto.new_key()
    crypto.write_key_file(ring.path, [newer, old])  # as a rotation in another process does
    after = crypto.encrypt_text("Кейінгі", "t.c")
    assert after.startswith(crypto.text_prefix(crypto.key_id(newer)))
    assert crypto.decrypt_text(before, "t.c") == "Бұрынғы"
    crypto.write_key_file(ring.path, [newer])
    with pytest.raises(DecryptionError, match="not in the key ring"):
        crypto.decrypt_text(before, "t.c")
    assert crypto.decrypt_text(after, "t.c") == "Кейінгі"


def test_a_value_under_an_unknown_key_reads_as_unreadable_and_is_never_written_back(app):
    column = EncryptedText("cases.narrative")
    foreign = crypto.Keyring([crypto.new_key()])
    stored = base64.b64encode(foreign.encrypt(b"lost", "cases.narrative")).decode()
    value = column.process_result_value(stored, None)
    assert isinstance(value, crypto.Unreadable) and "көрсету мүмкін емес" in value  # kk by default
    with pytest.raises(DecryptionError, match="cannot be saved"):
        column.process_bind_param(value, None)  # it would destroy what the right key could read
    mine = column.process_bind_param("kept", None)
    changed = mine[:-4] + ("AAAA" if not mine.endswith("AAAA") else "BBBB")
    with pytest.raises(DecryptionError):  # a changed value is still an error, not a message
        column.process_result_value(changed, None)
