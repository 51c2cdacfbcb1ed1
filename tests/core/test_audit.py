"""The audit log is a keyed hash chain anchored outside the database: a changed, deleted or cut
row is found, also when the links after it were recomputed without the key."""

import hashlib
import hmac
import json
import shutil
from pathlib import Path

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from app import create_app
from core import audit
from core.audit import AuditEntry
from core.audit_verify import verify_chain
from core.backup import create_backup, restore_backup
from core.model_types import utcnow
from extensions import db
from school.models import Role
from tests import factories
from tests.core.test_migrations import empty_database  # noqa: F401 - a fixture


def _entries(n: int) -> None:
    school = factories.school()
    for i in range(n):
        audit.record("probe", school, step=i)
    db.session.commit()


def test_intact_chain_verifies(app, runner):
    _entries(5)
    checked, broken = verify_chain()
    assert broken is None and checked >= 5
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "intact" in result.output


def test_a_changed_row_breaks_the_chain_at_that_row(app, runner):
    _entries(5)
    target = db.session.scalars(
        db.select(AuditEntry).where(AuditEntry.action == "probe").order_by(AuditEntry.seq)
    ).all()[2]
    db.session.execute(
        text("UPDATE audit_entries SET detail = :d WHERE id = :id"),
        {"d": '{"step": 99}', "id": target.id},
    )
    db.session.commit()
    db.session.expire_all()
    _checked, broken = verify_chain()
    assert broken == target.seq
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and f"broken at entry {target.seq}" in result.output


def test_a_deleted_row_breaks_the_chain(app):
    _entries(5)
    seqs = db.session.scalars(db.select(AuditEntry.seq).order_by(AuditEntry.seq)).all()
    db.session.execute(text("DELETE FROM audit_entries WHERE seq = :s"), {"s": seqs[3]})
    db.session.commit()
    _checked, broken = verify_chain()
    assert broken == seqs[3]


def test_the_orm_refuses_to_change_an_entry(app):
    _entries(1)
    entry = db.session.scalars(db.select(AuditEntry)).first()
    entry.action = "forged"
    with pytest.raises(RuntimeError):
        db.session.commit()
    db.session.rollback()


def test_staff_changes_are_audited_with_their_actor(client, login):
    admin = factories.user(Role.school_admin)
    login(admin)
    client.post(
        "/staff/accounts/new",
        data={"full_name": "Н", "email": "n@example.kz", "role": "teacher", "locale": "kk"},
    )
    entry = db.session.scalars(
        db.select(AuditEntry)
        .where(AuditEntry.action == "user.create")
        .order_by(AuditEntry.seq.desc())
    ).first()
    assert entry.actor_id == admin.id and entry.school_id == admin.school_id


# --- the key and the anchor outside the database (issue 13, finding 9) --------------------------


def _probes() -> list[AuditEntry]:
    return db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.seq)).all()


def test_deleting_the_newest_entries_is_found_by_the_anchor(app, runner):
    _entries(5)
    last = _probes()[-1].seq
    db.session.execute(text("DELETE FROM audit_entries WHERE seq >= :s"), {"s": last - 1})
    db.session.commit()
    db.session.expire_all()
    checked, broken = verify_chain()
    assert broken == last - 1 and checked == last - 2
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1, result.output
    assert f"the anchor names entry {last}, the log ends at {last - 2}" in result.output


FIELDS = ("seq", "at", "actor_id", "actor_kind", "action", "object_type", "object_id")
FIELDS += ("school_id", "detail", "prev_hash")


def forged_link(entry: AuditEntry, key: bytes | None = None, **changed) -> str:
    """A link as someone who read the code but has no key would compute it."""
    values = {name: getattr(entry, name) for name in FIELDS} | changed
    values["at"] = values["at"].isoformat(timespec="microseconds")
    payload = json.dumps([values[n] for n in FIELDS], ensure_ascii=False, separators=(",", ":"))
    if key is None:
        return hashlib.sha256(payload.encode()).hexdigest()
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()


def test_a_deleted_entry_with_the_following_links_recomputed_without_the_key_is_found(app, runner):
    """What someone holding only the database can do: delete a row, renumber the rows after
    it and recompute their links (SHA-256 as before the key, or an HMAC with a guessed key)."""
    _entries(6)
    entries = _probes()
    gone = entries[2].seq
    db.session.execute(text("DELETE FROM audit_entries WHERE id = :id"), {"id": entries[2].id})
    prev = entries[1].hash
    for entry in entries[3:]:
        forged = forged_link(entry, seq=entry.seq - 1, prev_hash=prev)
        db.session.execute(
            text(
                "UPDATE audit_entries SET seq = :seq, prev_hash = :prev, hash = :hash WHERE id = :id"
            ),
            {"seq": entry.seq - 1, "prev": prev, "hash": forged, "id": entry.id},
        )
        prev = forged
    db.session.commit()
    db.session.expire_all()
    assert verify_chain() == (gone - 1, gone)
    assert runner.invoke(args=["audit", "verify"]).exit_code == 1
    # Recomputed with a key that is not the installation's: the same.
    prev = entries[1].hash
    for entry in _probes()[2:]:
        forged = forged_link(entry, b"not the key", prev_hash=prev)
        db.session.execute(
            text("UPDATE audit_entries SET prev_hash = :prev, hash = :hash WHERE id = :id"),
            {"prev": prev, "hash": forged, "id": entry.id},
        )
        prev = forged
    db.session.commit()
    db.session.expire_all()
    assert verify_chain() == (gone - 1, gone)


def test_the_key_and_the_anchor_live_in_the_instance_folder(app, runner, tmp_path):
    _entries(3)
    instance = Path(app.instance_path)
    key_file = instance / audit.KEY_FILE
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert audit.chain_key() == key_file.read_text().strip().encode()
    head = _probes()[-1]
    assert audit.read_anchor(instance) == (head.seq, head.hash)
    # The anchor only moves forward: a worker committing an older head after a newer one.
    audit.write_anchor(instance, head.seq - 1, "0" * 64)
    assert audit.read_anchor(instance) == (head.seq, head.hash)
    # Configured, the key comes from the settings and no file is made.
    other = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "SECRET_KEY": "test",
            "AUDIT_KEY": "configured audit key",
            "INSTANCE_PATH": str(tmp_path / "other"),
        }
    )
    assert other.extensions["qamqor_audit_key"] == b"configured audit key"
    assert not (tmp_path / "other" / audit.KEY_FILE).exists()


def test_an_entry_never_committed_never_reaches_the_anchor(app, runner):
    """Found by the second review: an entry whose transaction ended without a commit or a
    rollback (the session closed, as a job or command that goes on with the same session does)
    stayed the pending head, and the next commit, with no entry of its own, anchored a head the
    log never held: ``verify`` then cried "cut" over an intact log."""
    _entries(2)
    committed = db.session.scalar(db.select(db.func.count()).select_from(AuditEntry))
    audit.record("probe.dropped", actor_kind="system")
    db.session.close()
    db.session.execute(text("SELECT 1"))
    db.session.commit()
    assert verify_chain() == (committed, None)
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def test_a_log_without_its_anchor_cannot_vouch_for_its_end(app, runner):
    _entries(2)
    (Path(app.instance_path) / audit.ANCHOR_FILE).unlink()
    assert verify_chain()[1] is not None
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "not anchored" in result.output


def test_the_migration_re_keys_a_chain_written_before_the_key(empty_database, tmp_path):  # noqa: F811
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": empty_database,
            "SECRET_KEY": "test",
            "INSTANCE_PATH": str(tmp_path / "instance"),
        }
    )
    table = AuditEntry.__table__
    with app.app_context():
        upgrade(revision="0007_fix_oversight_confirmation")
        prev = audit.GENESIS
        with db.engine.begin() as connection:
            for seq in (1, 2, 3):
                values = {
                    "seq": seq,
                    "at": utcnow(),
                    "actor_id": None,
                    "actor_kind": "system",
                    "action": "probe.old",
                    "object_type": "",
                    "object_id": None,
                    "school_id": None,
                    "detail": json.dumps({"step": seq}),
                    "prev_hash": prev,
                }
                prev = hashlib.sha256(audit._payload(values)).hexdigest()  # as before the key
                connection.execute(table.insert().values(**values, hash=prev))
        upgrade()
        assert verify_chain() == (3, None)
        assert audit.read_anchor(Path(app.instance_path))[0] == 3
        db.session.remove()
        # A chain that was already broken is not re-keyed: the upgrade stops and says where.
        downgrade(revision="0007_fix_oversight_confirmation")
        with db.engine.begin() as connection:
            connection.execute(text("UPDATE audit_entries SET detail = '{}' WHERE seq = 2"))
        with db.engine.connect() as connection:
            before = connection.execute(text("SELECT seq, hash FROM audit_entries")).all()
        with pytest.raises(SystemExit):  # Flask-Migrate's answer to the refusal below
            upgrade()
        with (
            db.engine.begin() as connection,
            pytest.raises(RuntimeError, match="broken at entry 2: it was not re-keyed"),
        ):
            audit.rekey_chain(connection, audit.chain_key())
        with db.engine.connect() as connection:
            after = connection.execute(text("SELECT seq, hash FROM audit_entries")).all()
        assert sorted(after) == sorted(before)
        db.engine.dispose()


def test_a_restored_backup_verifies_against_its_own_anchor(app, runner, tmp_path):
    if db.engine.dialect.name == "postgresql" and not shutil.which("pg_dump"):
        pytest.skip("pg_dump is not installed")
    _entries(3)
    create_backup(tmp_path / "backup")
    _entries(2)  # written after the backup: the live anchor is further on
    restore_backup(tmp_path / "backup")
    db.session.expire_all()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert audit.read_anchor(Path(app.instance_path))[0] == _probes()[-1].seq
