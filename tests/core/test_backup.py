"""A backup restores exactly what was there, on SQLite and PostgreSQL."""

import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.backup import create_backup, restore_backup
from extensions import db
from school.models import School
from tests import factories


def test_backup_and_restore_round_trip(app, tmp_path):
    if db.engine.dialect.name == "postgresql" and not shutil.which("pg_dump"):
        pytest.skip("pg_dump is not installed")
    kept = factories.school("Сақталатын мектеп")
    (tmp_path / "instance").mkdir(exist_ok=True)
    create_backup(tmp_path / "backup")

    factories.school("Кейін қосылған мектеп")
    db.session.get(School, kept.id).name = "Өзгертілген"
    db.session.commit()

    restore_backup(tmp_path / "backup")
    db.session.expire_all()
    names = set(db.session.scalars(select(School.name)))
    assert names == {"Сақталатын мектеп"}
    assert db.session.scalar(select(func.count(School.id))) == 1


def modes(root: Path) -> dict[str, str]:
    """The permission bits of a folder and of everything under it."""
    found = {".": oct(root.stat().st_mode & 0o777)}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = oct(path.stat().st_mode & 0o777)
    return found


def test_a_backup_and_what_it_restores_are_readable_by_the_owner_only(app, runner, tmp_path):
    if db.engine.dialect.name == "postgresql" and not shutil.which("pg_dump"):
        pytest.skip("pg_dump is not installed")
    instance = Path(app.instance_path)
    # An upload store made under a permissive umask, as an older version left it.
    (instance / "uploads").mkdir(mode=0o755, exist_ok=True)
    (instance / "uploads" / "stored").write_bytes(b"encrypted file")
    (instance / "uploads" / "stored").chmod(0o644)
    previous = os.umask(0o022)
    try:
        result = runner.invoke(args=["backup", "create"])
        assert result.exit_code == 0, result.output
    finally:
        os.umask(previous)
    backups = instance / "backups"
    [made] = backups.iterdir()
    assert oct(backups.stat().st_mode & 0o777) == "0o700"
    found = modes(made)
    database = "database.sqlite3" if db.engine.dialect.name == "sqlite" else "database.dump"
    assert {database, "instance/data_key", "instance/uploads/stored", "CREATED"} <= set(found)
    for name, mode in found.items():
        expected = "0o700" if (made / name).is_dir() else "0o600"
        assert mode == expected, name

    (instance / "uploads" / "stored").unlink()
    db.session.commit()  # no open transaction: the restore replaces the tables
    restore_backup(made)
    assert (instance / "uploads" / "stored").read_bytes() == b"encrypted file"
    assert oct((instance / "uploads").stat().st_mode & 0o777) == "0o700"
    assert oct((instance / "uploads" / "stored").stat().st_mode & 0o777) == "0o600"
