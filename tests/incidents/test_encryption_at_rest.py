"""Encryption at rest: a dump of the database and a copy of the file store show nothing of what
children and staff wrote; the app still reads it all; a key rotation keeps it readable; a lost
key stops the app at start-up."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import inspect, select, text, update

from app import create_app
from core import crypto, rotation
from core.audit import AuditEntry
from core.backup import create_backup, restore_backup
from core.crypto import DataKeyError, DecryptionError
from core.opaque import opaque
from extensions import db
from incidents.cases.models import Case, CaseTransition, ClosureRequest, PriorityChange
from incidents.intake import uploads
from incidents.intake.models import Message, Report
from tests import factories
from tests.incidents.case_factories import english_messages, staffed_school  # noqa: F401
from tests.incidents.factories import report as student_report
from tests.incidents.factories import staff_message
from tests.incidents.written_case import PDF_MARKER, TEXTS, written_case

ENCRYPTED = {
    "reports.description",
    "messages.body",
    "teacher_reports.description",
    "priority_changes.reason",
    "cases.narrative",
    "cases.closing_note",
    "case_transitions.note",
    "case_people.alias",
    "case_actions.note",
    "referrals.facts_text",
    "referrals.outcome_note",
    "case_duties.met_note",
    "closure_requests.note",
    "closure_requests.decision_note",
    "users.totp_secret",  # not a text, but a secret: a dump alone must not make codes
}


def raw_dump() -> str:
    """Every row of every table, read with plain SQL: what a database dump holds."""
    parts = []
    with db.engine.connect() as connection:
        for name in inspect(connection).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{name}"')):  # noqa: S608 - table names from the database
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        parts.append(bytes(value).decode("latin-1"))
                    else:
                        parts.append(str(value))
    return "\n".join(parts)


def raw_files(app) -> list[bytes]:
    root = Path(app.instance_path) / "uploads"
    return [path.read_bytes() for path in root.iterdir()]


def raw_value(table: str, column: str, row_id: int) -> str:
    with db.engine.connect() as connection:
        return connection.scalar(
            text(f"SELECT {column} FROM {table} WHERE id = :id"),  # noqa: S608 - fixed names
            {"id": row_id},
        )


def set_raw_value(table: str, column: str, row_id: int, value: str) -> None:
    with db.engine.begin() as connection:
        connection.execute(
            text(f"UPDATE {table} SET {column} = :value WHERE id = :id"),  # noqa: S608 - fixed names
            {"value": value, "id": row_id},
        )
    db.session.expire_all()


def every_text_reads_back(written) -> None:
    """The app decrypts every field to what was written."""
    db.session.expire_all()
    case = db.session.get(Case, written.case.id)
    report = case.report
    assert report.description == TEXTS["description"]
    bodies = {message.body for message in report.messages}
    assert {TEXTS["student_message"], TEXTS["staff_message"]} <= bodies
    assert case.narrative == TEXTS["narrative"] and case.closing_note == TEXTS["closing_note"]
    assert [person.alias for person in case.people] == [TEXTS["alias"]]
    assert TEXTS["action_note"] in {action.note for action in case.actions}
    assert {referral.facts_text for referral in case.referrals} == {TEXTS["facts"]}
    assert TEXTS["outcome"] in {referral.outcome_note for referral in case.referrals}
    requests = db.session.scalars(select(ClosureRequest).where(ClosureRequest.case_id == case.id))
    assert {(r.note, r.decision_note) for r in requests} == {
        (TEXTS["closing_note"], TEXTS["decision_note"])
    }
    notes = db.session.scalars(select(CaseTransition.note).where(CaseTransition.case_id == case.id))
    assert TEXTS["reopen_reason"] in set(notes)
    reasons = db.session.scalars(select(PriorityChange.reason))
    assert list(reasons) == [TEXTS["priority_reason"]]
    teacher_case = db.session.get(Case, written.teacher_case.id)
    assert teacher_case.teacher_report.description == TEXTS["teacher"]
    assert teacher_case.closing_note == TEXTS["teacher_closing"]
    files = {a.content_type: uploads.load_bytes(a.storage_key) for a in report.attachments}
    assert sorted(files) == ["application/pdf", "image/jpeg"]
    # The PDF reads back as the one page it was redrawn into on arrival.
    assert len(PdfReader(io.BytesIO(files["application/pdf"])).pages) == 1
    assert files["image/jpeg"].startswith(b"\xff\xd8")


def test_the_encrypted_columns_are_the_free_texts_and_secrets_and_each_names_its_own_place(app):
    columns = crypto.encrypted_columns(db.metadata)
    assert {column.type.context for column in columns} == ENCRYPTED
    for column in columns:
        assert column.type.context == f"{column.table.name}.{column.name}"


def test_an_encrypted_column_cannot_be_searched_in_sql_except_for_empty(app):
    assert "reports.description" in str((Report.description != "").compile())
    with pytest.raises(TypeError, match="cannot be compared or searched"):
        Report.description == "Айбек"  # noqa: B015 - building the expression is the test
    with pytest.raises(TypeError, match="cannot be compared or searched"):
        Report.description.contains("Айбек")


def test_a_database_dump_and_the_file_store_hold_none_of_what_was_written(app, login):
    staff = staffed_school()
    written = written_case(app, login, staff)
    every_text_reads_back(written)
    counselor = app.test_client()
    login(staff.counselor, using=counselor)
    page = counselor.get(f"/staff/cases/{opaque(written.case.id)}").get_data(as_text=True)
    assert TEXTS["description"] in page and TEXTS["narrative"] in page  # the pages decrypt

    dump = raw_dump()
    assert written.case.label in dump and written.report.label in dump  # the rows are there
    assert "peer_violence" in dump and "resolved" in dump  # statistics stay in clear
    for name, value in TEXTS.items():
        assert value not in dump, name
        assert value.split()[0] not in dump, name  # not even its distinctive first word
    files = raw_files(app)
    assert len(files) == 2
    for data in files:
        assert PDF_MARKER not in data and b"%PDF" not in data and b"JFIF" not in data
        assert crypto.read_header(data).key_id == crypto.keyring().key_ids[0]
    details = " ".join(db.session.scalars(select(AuditEntry.detail)))
    assert all(value not in details for value in TEXTS.values())
    # The staff's authenticator secrets (the counselor logged in with one above).
    assert staff.counselor.totp_secret and staff.counselor.totp_secret not in dump


def test_a_value_moved_to_another_column_does_not_decrypt(app):
    school = factories.school()
    made, _code = student_report(school, description="Көшірілген-сипаттама")
    message = staff_message(made, factories.user(school=school), "Хабар")
    stolen = raw_value("reports", "description", made.id)
    set_raw_value("messages", "body", message.id, stolen)
    with pytest.raises(DecryptionError, match="messages.body"):
        db.session.scalar(select(Message.body).where(Message.id == message.id))


def test_a_changed_character_in_the_database_is_detected(app):
    school = factories.school()
    made, _code = student_report(school, description="Өзгертілмеуі керек")
    stored = raw_value("reports", "description", made.id)
    middle = len(stored) // 2
    changed = stored[:middle] + ("A" if stored[middle] != "A" else "B") + stored[middle + 1 :]
    set_raw_value("reports", "description", made.id, changed)
    with pytest.raises(DecryptionError, match="integrity"):
        db.session.scalar(select(Report.description).where(Report.id == made.id))


def test_a_file_swapped_for_another_does_not_decrypt(app):
    first, second = uploads.save_bytes(b"first"), uploads.save_bytes(b"second")
    root = Path(app.instance_path) / "uploads"
    (root / first).write_bytes((root / second).read_bytes())
    with pytest.raises(DecryptionError):
        uploads.load_bytes(first)


def key_usage_ids() -> set[str]:
    columns, files = rotation.key_usage()
    return {key for counts in [*columns.values(), files] for key in counts}


def test_rotation_re_encrypts_every_value_and_file_and_drops_the_old_key(app, login, runner):
    staff = staffed_school()
    written = written_case(app, login, staff)
    old = crypto.keyring().key_ids[0].hex()
    columns, files = rotation.key_usage()
    values = sum(sum(counts.values()) for counts in columns.values())
    assert key_usage_ids() == {old} and sum(files.values()) == 2

    result = runner.invoke(args=["crypto", "rotate", "--grace", "0", "--batch-size", "3"])
    assert result.exit_code == 0, result.output
    new = crypto.keyring().key_ids[0].hex()
    assert new != old and f"data key {new}: new" in result.output
    assert f"values re-encrypted: {values}" in result.output
    assert "files re-encrypted: 2" in result.output
    assert "old keys retired (still read): 1" in result.output
    assert "retired keys dropped: 0" in result.output
    key_file = Path(app.instance_path) / crypto.KEY_FILE
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert [kid.hex() for kid in crypto.keyring().key_ids] == [new, old]  # the old one reads on
    assert list(rotation.retired_keys()) == [bytes.fromhex(old)]
    assert key_usage_ids() == {new}
    every_text_reads_back(written)
    status = runner.invoke(args=["crypto", "status"])
    assert f"current {new}" in status.output and f"{old} (retired " in status.output
    assert "crypto.rotate" in set(db.session.scalars(select(AuditEntry.action)))

    # A later rotation drops the key retired long enough ago (here: at once) and retires this one.
    result = runner.invoke(args=["crypto", "rotate", "--grace", "0", "--drop-after", "0"])
    assert result.exit_code == 0, result.output
    assert "retired keys dropped: 1" in result.output
    newest = crypto.keyring().key_ids[0].hex()
    assert [kid.hex() for kid in crypto.keyring().key_ids] == [newest, new]
    lines = [line for line in key_file.read_text().splitlines() if not line.startswith("#")]
    assert len(lines) == 2 and old not in runner.invoke(args=["crypto", "status"]).output
    every_text_reads_back(written)


def test_an_interrupted_rotation_keeps_everything_readable_and_finishes_on_the_next_run(
    app, login, runner
):
    staff = staffed_school()
    written = written_case(app, login, staff)
    old = crypto.keyring().key_ids[0]
    # A second worker, started before the rotation, on the same instance folder.
    worker = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "SECRET_KEY": "test",
            "INSTANCE_PATH": app.instance_path,
        }
    )
    assert rotation.start_rotation()
    new = crypto.keyring().key_ids[0]
    table = Report.__table__
    # Interrupted after one column: the reports under the new key, everything else under the old.
    rotation._reencrypt_table(table, [table.c.description], rotation.RotationReport(), 1)
    assert raw_value("reports", "description", written.report.id).startswith(
        crypto.text_prefix(new)
    )
    assert raw_value("cases", "narrative", written.case.id).startswith(crypto.text_prefix(old))
    every_text_reads_back(written)
    with worker.app_context():
        # The other worker read the new key from the file and writes under it at once.
        assert crypto.encrypt_text("x", "t.c").startswith(crypto.text_prefix(new))

    result = runner.invoke(args=["crypto", "rotate", "--grace", "0"])
    assert result.exit_code == 0, result.output
    assert f"data key {new.hex()}: finishing a rotation" in result.output
    assert crypto.keyring().key_ids == [new, old] and list(rotation.retired_keys()) == [old]
    assert key_usage_ids() == {new.hex()}
    every_text_reads_back(written)


def test_a_value_stored_in_clear_is_refused_and_the_rotation_encrypts_it(app, runner):
    school = factories.school()
    made, _code = student_report(school, description="Шифрлануы керек")
    set_raw_value("reports", "description", made.id, "Written before encryption at rest")
    with pytest.raises(DecryptionError, match="not encrypted"):
        db.session.scalar(select(Report.description).where(Report.id == made.id))
    result = runner.invoke(args=["crypto", "rotate", "--grace", "0"])
    assert result.exit_code == 0, result.output
    assert "stored in clear before, now encrypted: 1" in result.output
    assert (
        db.session.scalar(select(Report.description).where(Report.id == made.id))
        == "Written before encryption at rest"
    )


def test_an_edit_made_during_the_rotation_is_not_overwritten(app):
    school = factories.school()
    made, _code = student_report(school, description="Бірінші")
    rotation.start_rotation()
    table = Report.__table__
    stored = raw_value("reports", "description", made.id)
    # The app saves a new text between the rotation's read and its write: the write is skipped.
    db.session.execute(update(Report).where(Report.id == made.id).values(description="Екінші"))
    db.session.commit()
    assert raw_value("reports", "description", made.id) != stored
    rotation._reencrypt_table(table, [table.c.description], rotation.RotationReport(), 10)
    assert db.session.scalar(select(Report.description).where(Report.id == made.id)) == "Екінші"


def test_a_missing_or_wrong_key_stops_the_app_at_start_up(app, tmp_path):
    school = factories.school()
    made, _code = student_report(school, description="Кілтсіз оқылмайды")
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    lost = tmp_path / "restored-without-key"
    with pytest.raises(DataKeyError, match="data_key") as error:
        create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x", "INSTANCE_PATH": str(lost)})
    assert "reports.description" in str(error.value)
    assert not (lost / crypto.KEY_FILE).exists()  # no new key that would hide the loss

    wrong = crypto.encode_key(crypto.new_key())
    with pytest.raises(DataKeyError, match="QAMQOR_DATA_KEY"):
        create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "SECRET_KEY": "x",
                "INSTANCE_PATH": str(tmp_path / "wrong"),
                "DATA_KEY": wrong,
            }
        )

    right = crypto.encode_key(crypto.keyring().keys[0])
    restored = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "x",
            "INSTANCE_PATH": str(tmp_path / "right"),
            "DATA_KEY": right,
        }
    )
    stored = raw_value("reports", "description", made.id)
    with restored.app_context():
        assert crypto.decrypt_text(stored, "reports.description") == "Кілтсіз оқылмайды"


def test_a_lost_instance_folder_is_recovered_from_a_backup_with_its_data_key(app, tmp_path):
    if db.engine.dialect.name == "postgresql" and not shutil.which("pg_dump"):
        pytest.skip("pg_dump is not installed")
    school = factories.school()
    made, _code = student_report(school, description="Сақтық көшірмеден оқылады")
    create_backup(tmp_path / "backup")
    assert (tmp_path / "backup" / "instance" / crypto.KEY_FILE).exists()
    stored = raw_value("reports", "description", made.id)
    db.session.commit()  # no open transaction: the restore replaces the tables
    config = {
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": "x",
        "INSTANCE_PATH": str(tmp_path / "new-machine"),
    }
    with pytest.raises(DataKeyError):
        create_app(config)  # the keys are gone with the old instance folder
    # The documented way out: start without the check, only to restore.
    recovering = create_app({**config, "DATA_KEY_CHECK": False})
    with recovering.app_context():
        with pytest.raises(DecryptionError):
            crypto.decrypt_text(stored, "reports.description")  # a new key, made on start
        restore_backup(tmp_path / "backup")
        assert crypto.decrypt_text(stored, "reports.description") == "Сақтық көшірмеден оқылады"


def test_with_configured_keys_the_operator_puts_the_new_key_first_and_rotates(app, tmp_path):
    school = factories.school()
    made, _code = student_report(school, description="Бапталған кілт")
    stored = raw_value("reports", "description", made.id)
    old = crypto.keyring().keys[0]
    config = {
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": "x",
        "INSTANCE_PATH": str(tmp_path / "configured"),
    }
    alone = create_app({**config, "DATA_KEY": crypto.encode_key(old)})
    with alone.app_context():
        result = alone.test_cli_runner().invoke(args=["crypto", "rotate", "--grace", "0"])
        assert result.exit_code == 2 and "holds one key" in result.output
    new = crypto.new_key()
    both = create_app({**config, "DATA_KEY": f"{crypto.encode_key(new)},{crypto.encode_key(old)}"})
    with both.app_context():
        result = both.test_cli_runner().invoke(args=["crypto", "rotate", "--grace", "0"])
        assert result.exit_code == 0, result.output
        assert "values re-encrypted: 1" in result.output
        assert "keep the old keys after the new one in QAMQOR_DATA_KEY" in result.output
        moved = raw_value("reports", "description", made.id)
        assert moved != stored and moved.startswith(crypto.text_prefix(crypto.key_id(new)))
        assert crypto.decrypt_text(moved, "reports.description") == "Бапталған кілт"
        db.session.remove()
        db.engine.dispose()
