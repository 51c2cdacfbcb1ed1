"""Two processes writing to the audit log at once extend the chain one after the other.

Each gunicorn worker has its own connection; here two threads with their own app contexts (and
so their own sessions and connections) play the two workers.
"""

import threading
from pathlib import Path

from core import audit
from core.audit import AuditEntry
from core.audit_verify import verify_chain
from extensions import db


def test_a_second_writer_waits_for_the_first_and_extends_its_link(app):
    first_recorded = threading.Event()
    failures: list[BaseException] = []

    def first() -> None:
        with app.app_context():
            try:
                audit.record("probe.first", actor_kind="system")
                first_recorded.set()
                # Still uncommitted while the second writer reads the chain.
                threading.Event().wait(0.5)
                db.session.commit()
            except BaseException as error:  # reported to the test below
                failures.append(error)
                first_recorded.set()
            finally:
                db.session.remove()

    def second() -> None:
        first_recorded.wait(5)
        with app.app_context():
            try:
                audit.record("probe.second", actor_kind="system")
                db.session.commit()
            except BaseException as error:
                failures.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert failures == []
    entries = db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.seq)).all()
    assert [entry.action for entry in entries] == ["probe.first", "probe.second"]
    assert entries[1].prev_hash == entries[0].hash
    assert verify_chain() == (2, None)
    # The anchor outside the database names the later of the two heads.
    assert audit.read_anchor(Path(app.instance_path)) == (2, entries[1].hash)
