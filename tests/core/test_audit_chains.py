"""One audit chain per school and one for the installation (issue 19): writers of two schools do
not wait for each other, and every chain keeps the guarantees of the one chain before it (a
removed, changed, reordered or moved entry, a cut end, a chain deleted whole are all found)."""

import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from core import audit
from core.audit import AuditEntry
from core.audit_verify import verify_chain, verify_chains
from extensions import db
from tests import factories


def _write(school_id: int | None, n: int, action: str = "probe") -> None:
    for i in range(n):
        audit.record(action, school_id=school_id, actor_kind="system", step=i)
    db.session.commit()


def _chain(chain: int) -> list[AuditEntry]:
    return db.session.scalars(
        db.select(AuditEntry).where(AuditEntry.chain == chain).order_by(AuditEntry.seq)
    ).all()


@pytest.fixture
def two_schools(app):
    """Schools whose chains hold 4 and 3 entries, and an installation chain of 2."""
    a, b = factories.school().id, factories.school().id
    # Start from empty chains (making a school may write entries of its own).
    db.session.execute(text("DELETE FROM audit_entries"))
    db.session.commit()
    for path in (audit.anchor_path(Path(app.instance_path), c) for c in (0, a, b)):
        path.unlink(missing_ok=True)
    _write(None, 2)
    _write(a, 4)
    _write(b, 3)
    return a, b


def test_each_school_has_its_own_chain_and_anchor(two_schools, runner, app):
    a, b = two_schools
    assert [e.seq for e in _chain(a)] == [1, 2, 3, 4]
    assert [e.seq for e in _chain(b)] == [1, 2, 3]
    assert all(e.school_id == a for e in _chain(a))
    instance = Path(app.instance_path)
    assert audit.read_anchor(instance, a) == (4, _chain(a)[-1].hash)
    assert audit.read_anchor(instance, b) == (3, _chain(b)[-1].hash)
    assert audit.read_anchor(instance) == (2, _chain(0)[-1].hash)
    assert verify_chain() == (9, None)
    assert runner.invoke(args=["audit", "verify"]).output == "audit log intact: 9 entries\n"


def _tamper(sql: str, **params) -> None:
    db.session.execute(text(sql), params)
    db.session.commit()
    db.session.expire_all()


def _broken(runner) -> str:
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1, result.output
    return result.output


def test_a_changed_entry_of_a_school_chain_is_found(two_schools, runner):
    a, b = two_schools
    _tamper("UPDATE audit_entries SET detail = '{}' WHERE chain = :c AND seq = 2", c=b)
    [broken] = verify_chains()[1]
    assert (broken.chain, broken.seq, broken.checked) == (b, 2, 1)
    assert f"broken at entry 2 (the chain of school {b};" in _broken(runner)


def test_a_removed_entry_of_a_school_chain_is_found(two_schools, runner):
    a, _b = two_schools
    _tamper("DELETE FROM audit_entries WHERE chain = :c AND seq = 3", c=a)
    assert verify_chain() == (2, 3)
    assert f"broken at entry 3 (the chain of school {a};" in _broken(runner)


def test_reordered_entries_of_a_school_chain_are_found(two_schools, runner):
    a, _b = two_schools
    # Swap the places of entries 2 and 3 (their links stay as they were written).
    _tamper("UPDATE audit_entries SET seq = -seq WHERE chain = :c AND seq IN (2, 3)", c=a)
    _tamper("UPDATE audit_entries SET seq = 5 + seq WHERE chain = :c AND seq IN (-2, -3)", c=a)
    assert verify_chain()[1] == 2
    _broken(runner)


def test_an_entry_moved_to_another_chain_is_found(two_schools, runner):
    """The newest entry of school A's chain given to school B's chain as its next link, with
    everything else as it was: the hash of a school chain covers its number."""
    a, b = two_schools
    _tamper(
        "UPDATE audit_entries SET chain = :b, seq = 4, school_id = :b, prev_hash = :prev"
        " WHERE chain = :a AND seq = 4",
        a=a,
        b=b,
        prev=_chain(b)[-1].hash,
    )
    chains = {broken.chain for broken in verify_chains()[1]}
    assert chains == {a, b}  # A is cut at its end, B holds an entry it never had


def test_the_newest_entries_of_a_school_chain_deleted_are_found(two_schools, runner):
    a, _b = two_schools
    _tamper("DELETE FROM audit_entries WHERE chain = :c AND seq >= 3", c=a)
    assert verify_chain() == (2, 3)
    assert "the anchor names entry 4, the log ends at 2" in _broken(runner)


def test_a_school_chain_deleted_whole_is_found_by_its_anchor(two_schools, runner):
    _a, b = two_schools
    _tamper("DELETE FROM audit_entries WHERE chain = :c", c=b)
    [broken] = verify_chains()[1]
    assert (broken.chain, broken.seq, broken.anchor[0]) == (b, 1, 3)
    assert "the anchor names entry 3, the log ends at 0" in _broken(runner)


def test_a_school_chain_without_its_anchor_cannot_vouch_for_its_end(two_schools, runner, app):
    a, _b = two_schools
    audit.anchor_path(Path(app.instance_path), a).unlink()
    assert verify_chain()[1] is not None
    assert f"not anchored (the chain of school {a})" in _broken(runner)


def _hold_chain_lock(app, school_id: int, held: threading.Event, release: threading.Event):
    """Another worker: an entry of the school written, its transaction left open."""

    def run() -> None:
        with app.app_context():
            try:
                audit.record("probe.held", school_id=school_id, actor_kind="system")
                db.session.flush()
                held.set()
                release.wait(60)
                db.session.commit()
            finally:
                held.set()
                db.session.remove()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_writer_of_one_school_does_not_wait_for_another_school(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer for the whole file, by design")
    a, b = factories.school().id, factories.school().id
    held, release = threading.Event(), threading.Event()
    thread = _hold_chain_lock(app, a, held, release)
    try:
        assert held.wait(30)
        # School B writes while A's chain is locked: no wait (a wait would end in the timeout).
        db.session.execute(text("SET LOCAL statement_timeout = '5s'"))
        audit.record("probe.other_school", school_id=b, actor_kind="system")
        db.session.commit()
        # The installation chain is not held either.
        db.session.execute(text("SET LOCAL statement_timeout = '5s'"))
        audit.record("probe.installation", actor_kind="system")
        db.session.commit()
        # A writer of school A does wait for the lock of A's chain.
        db.session.execute(text("SET LOCAL statement_timeout = '300ms'"))
        with pytest.raises(OperationalError, match="statement timeout"):
            audit.record("probe.same_school", school_id=a, actor_kind="system")
        db.session.rollback()
    finally:
        release.set()
        thread.join(30)
    assert [e.action for e in _chain(b)][-1] == "probe.other_school"
    assert [e.action for e in _chain(a)][-1] == "probe.held"
    assert "probe.same_school" not in {e.action for e in _chain(a)}
    assert verify_chain()[1] is None


def test_two_writers_of_one_school_extend_its_chain_one_after_the_other(app):
    a = factories.school().id  # its chain starts with "school.create"
    held, release = threading.Event(), threading.Event()
    thread = _hold_chain_lock(app, a, held, release)
    failures: list[BaseException] = []

    def second() -> None:
        with app.app_context():
            try:
                audit.record("probe.second", school_id=a, actor_kind="system")
                db.session.commit()
            except BaseException as error:  # reported below
                failures.append(error)
            finally:
                db.session.remove()

    try:
        assert held.wait(30)
        other = threading.Thread(target=second)
        other.start()
        release.set()
        other.join(30)
    finally:
        release.set()
        thread.join(30)
    assert failures == []
    entries = _chain(a)
    assert [e.action for e in entries] == ["school.create", "probe.held", "probe.second"]
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[2].prev_hash == entries[1].hash
    assert verify_chain()[1] is None
    assert audit.read_anchor(Path(app.instance_path), a) == (3, entries[2].hash)


def test_a_restored_backup_verifies_against_its_own_school_anchors(two_schools, runner, tmp_path):
    import shutil

    from core.backup import create_backup, restore_backup

    if db.engine.dialect.name == "postgresql" and not shutil.which("pg_dump"):
        pytest.skip("pg_dump is not installed")
    a, _b = two_schools
    create_backup(tmp_path / "backup")
    later = factories.school().id  # a chain the backup does not hold
    _write(a, 2)
    _write(later, 1)
    restore_backup(tmp_path / "backup")
    db.session.expire_all()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert audit.read_anchor(Path(runner.app.instance_path), a)[0] == 4
