"""The audit log is a hash chain: a changed or deleted row is found."""

from sqlalchemy import text

from core import audit
from core.audit import AuditEntry, verify_chain
from extensions import db
from school.models import Role
from tests import factories


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
    import pytest

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
