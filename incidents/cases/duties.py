"""Legal duties as clocks on a case: the rules (``data/duty_rules.csv``, shipped with
the source cited for each line, in kk, ru and en) say which duty a triaged case carries and by
when; the counselor records how each was met; a referral sent to the body a duty names meets it.

A rule's condition columns take values separated by ``|`` (any of them); an empty column is any
value; all the columns given must hold. ``days`` says whose number the hours are: ``law`` (the
law gives it), ``ours`` (the law gives the step, the hours are our choice) or ``check`` (the law
is not settled: the page says to check the current rule). Duties are created at triage and when
the screening or the facts change; one that no longer applies and is not met yet is withdrawn.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from core import audit
from extensions import db
from incidents.cases.case_steps import WorkflowError, ensure_open
from incidents.cases.duty_models import CaseDuty
from incidents.cases.enums import DutyMet
from school.models import BodyKind, User

RULES_CSV = Path(__file__).parent / "data" / "duty_rules.csv"

TITLES = {
    "guardianship_notice": _l("Notify the guardianship and trusteeship body"),
    "bullying_protocol": _l(
        "Hand the case to the police and inform the education body (administrative protocol"
        " for bullying)"
    ),
    "bullying_complaint": _l("Anti-bullying model, step 1: register the complaint"),
    "bullying_analysis": _l("Anti-bullying model, step 2: analyse the situation"),
    "bullying_plan": _l("Anti-bullying model, step 3: agree the help plan"),
    "bullying_monitoring": _l("Anti-bullying model, step 4: monitor and check again"),
}
DAYS_NOTES = {
    "law": _l("The time limit is set by law."),
    "ours": _l("The law names the step; the time limit is Qamqor’s choice."),
    "check": _l("The law is not settled here: check the current rule."),
}


@dataclass(frozen=True)
class DutyRule:
    key: str
    duty: str
    conditions: dict[str, frozenset[str]]
    within: timedelta
    met_by_referral: BodyKind | None
    days: str
    sources: dict[str, str]

    def matches(self, case) -> bool:
        facts = {
            "screening": {case.screening.value} if case.screening else set(),
            "form": {form.value for form in case.violence_forms},
            "perpetrator": {case.perpetrator.value} if case.perpetrator else set(),
        }
        return all(facts[name] & wanted for name, wanted in self.conditions.items())

    @property
    def source(self) -> str:
        return self.sources.get(str(get_locale() or "en")[:2]) or self.sources["en"]


def _values(text: str) -> frozenset[str]:
    return frozenset(part.strip() for part in text.split("|") if part.strip())


@cache
def rules(path: Path = RULES_CSV) -> tuple[DutyRule, ...]:
    found = []
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["duty"] not in TITLES or row["days"] not in DAYS_NOTES:
                raise ValueError(f"duty rule {row['key']}: unknown duty or days")
            conditions = {
                name: _values(row[name])
                for name in ("screening", "form", "perpetrator")
                if _values(row[name])
            }
            if not conditions:
                raise ValueError(f"duty rule {row['key']}: no condition")
            kind = row["met_by_referral"].strip()
            found.append(
                DutyRule(
                    key=row["key"],
                    duty=row["duty"],
                    conditions=conditions,
                    within=timedelta(hours=int(row["within_hours"])),
                    met_by_referral=BodyKind(kind) if kind else None,
                    days=row["days"],
                    sources={lang: row[f"source_{lang}"] for lang in ("en", "ru", "kk")},
                )
            )
    return tuple(found)


def rule_for(duty: str) -> DutyRule | None:
    """The shortest-time rule of this duty kind (its source and notes are shown with the duty)."""
    found = [rule for rule in rules() if rule.duty == duty]
    return min(found, key=lambda rule: rule.within) if found else None


def title(duty: CaseDuty) -> str:
    return str(TITLES.get(duty.kind, duty.kind))


def required(case) -> dict[str, DutyRule]:
    """The duties the rules give this case: each kind once, with its shortest time."""
    found: dict[str, DutyRule] = {}
    for rule in rules():
        if rule.matches(case) and (rule.duty not in found or rule.within < found[rule.duty].within):
            found[rule.duty] = rule
    return found


def apply(case, *, by: User | None, now: datetime) -> list[CaseDuty]:
    """Create the duties the case now carries; withdraw the unmet ones that no longer apply."""
    needed = required(case)
    have = {duty.kind: duty for duty in case.duties}
    created = []
    for kind, rule in needed.items():
        if kind in have:
            continue
        duty = CaseDuty(case=case, school_id=case.school_id, kind=kind, due_at=now + rule.within)
        db.session.add(duty)
        created.append(duty)
        if rule.met_by_referral is not None:
            sent = next(
                (r for r in case.referrals if r.body_kind == rule.met_by_referral and r.sent_at),
                None,
            )
            if sent is not None:
                _met(
                    duty, how=DutyMet.referral, by=sent.sent_by, note=sent.reference_number, now=now
                )
    for kind, duty in have.items():
        if kind not in needed and not duty.is_met:
            case.duties.remove(duty)
            audit.record("duty.withdraw", case, actor=by, duty=kind)
    if created:
        db.session.flush()
        audit.record(
            "duty.create",
            case,
            actor=by,
            actor_kind=None if by else "system",
            duties=sorted(duty.kind for duty in created),
        )
    return created


def _met(duty: CaseDuty, *, how: DutyMet, by: User | None, note: str, now: datetime) -> None:
    duty.met_at = now
    duty.met_how = how
    duty.met_by_id = getattr(by, "id", None)
    duty.met_note = note


def meet(duty: CaseDuty, *, by: User, how: DutyMet, note: str, now: datetime) -> None:
    """The counselor records how the duty was met (audited; the note is encrypted)."""
    ensure_open(duty.case)
    if duty.is_met:
        raise WorkflowError(_l("This duty has already been recorded as met."))
    note = note.strip()
    if how == DutyMet.referral:
        raise WorkflowError(_l("A duty is met by a referral when the referral is sent."))
    if how == DutyMet.not_needed and not note:
        raise WorkflowError(_l("Please say why this duty is not needed in this case."))
    _met(duty, how=how, by=by, note=note, now=now)
    audit.record(
        "duty.meet",
        duty.case,
        actor=by,
        duty=duty.kind,
        how=how.value,
        late=now > duty.due_at,
    )


def referral_sent(referral, *, by: User, now: datetime) -> None:
    """A referral went out: the open duties it fulfils are met by it."""
    kinds = {rule.duty for rule in rules() if rule.met_by_referral == referral.body_kind}
    for duty in referral.case.duties:
        if duty.kind in kinds and not duty.is_met:
            _met(duty, how=DutyMet.referral, by=by, note=referral.reference_number, now=now)
            audit.record(
                "duty.meet",
                referral.case,
                actor=by,
                duty=duty.kind,
                how=DutyMet.referral.value,
                referral_id=referral.id,
                late=now > duty.due_at,
            )
