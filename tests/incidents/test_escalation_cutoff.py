"""The first deploy (issue 16): switching the escalation chains on must not hand the duty desk
every old report nobody answered. Reports received before the cut-off (the time migration 0021
ran) are never taken up by the chain; they stay with whoever held them. Reports received
from the cut-off on escalate as usual."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core.mail import OutgoingMail
from extensions import db
from incidents.desk import escalation
from incidents.desk.escalation_models import EscalationCutoff
from tests.incidents.test_escalation import AT_DAY, arrived, chain, steps  # noqa: F401 - fixture


def test_reports_from_before_the_first_deploy_do_not_flood_the_desk(app, chain):  # noqa: F811
    w = chain
    deployed = AT_DAY
    db.session.add(EscalationCutoff(id=1, since=deployed))
    db.session.commit()
    # A year of old critical reports nobody answered, and one the minute after the deploy.
    old = [arrived(w["school"], deployed - timedelta(days=n)) for n in (1, 30, 365)]
    old.append(arrived(w["school"], deployed - timedelta(seconds=1)))
    new = arrived(w["school"], deployed + timedelta(minutes=1))

    to_desk = select(OutgoingMail).where(OutgoingMail.to == w["desk"].email)
    told_at_arrival = len(list(db.session.scalars(to_desk)))  # critical: the desk reads it too

    now = deployed + timedelta(minutes=2)
    for _ in range(8):  # long enough for the new one to go along the whole chain
        escalation.run(now)
        now += timedelta(minutes=30)

    for made in old:
        assert steps(made) == []
    assert [s[2] for s in steps(new)] == [1, 2, 3, None]
    # One escalation notice to the desk: the new report's.
    assert len(list(db.session.scalars(to_desk))) == told_at_arrival + 1


def test_without_a_cut_off_every_waiting_report_is_taken_up(app, chain):  # noqa: F811
    """An installation made without migrations (the tests', a fresh one) has no old reports and
    no cut-off: nothing is held back."""
    made = arrived(chain["school"], AT_DAY - timedelta(days=30))
    escalation.run(AT_DAY)
    assert [s[2] for s in steps(made)] == [1]
