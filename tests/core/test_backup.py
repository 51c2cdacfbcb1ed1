"""A backup restores exactly what was there, on SQLite and PostgreSQL."""

import shutil

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
