"""Referrals to authorized bodies: the rules table, required referrals and their deadlines, the
steps of a referral (draft → sent → acknowledged → closed) and the referral letter.

The rules are data (``data/referral_rules.csv``, loaded by ``flask incidents load-referral-rules``
and edited by the platform administrator). A rule names conditions (screening result, form of
violence, perpetrator, injury; empty = any) and a target: a kind of authorized body, or a person
at school (the director, the parents), which becomes a required action instead.
"""

from __future__ import annotations

import csv
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from core import audit
from core.clock import local_today
from core.model_types import utcnow
from extensions import db
from incidents.cases import duties
from incidents.cases.case_steps import WorkflowError, ensure_open, plan_action
from incidents.cases.enums import (
    ActionKind,
    ReferralStatus,
    ReferralTarget,
    Screening,
)
from incidents.cases.models import Action, Case, Referral, ReferralRule
from incidents.intake.models import Perpetrator, ViolenceForm
from incidents.referrals.answer_times import answer_due
from school.models import AuthorizedBody, BodyKind, School, User

log = logging.getLogger(__name__)
RULES_CSV = Path(__file__).parent / "data" / "referral_rules.csv"
LETTER_LANGUAGES = ("kk", "ru")

# What a letter may say about the case; the counselor ticks the minimum necessary.
FACT_CHOICES = {
    "forms": _l("Forms of violence"),
    "perpetrator": _l("Who did it"),
    "place": _l("Where it happened"),
    "when": _l("When it happened"),
    "class": _l("Class of the child"),
    "screening": _l("Screening result"),
    "injury": _l("Injury"),
    "risk": _l("Risk level"),
}
DEFAULT_FACTS = ("forms", "perpetrator", "when", "screening")


# --- the rules table --------------------------------------------------------------------------


def _optional(enum_cls, value: str):
    value = (value or "").strip()
    return enum_cls(value) if value else None


def _injury(value: str) -> bool | None:
    value = (value or "").strip().lower()
    return {"yes": True, "no": False}.get(value)


def load_rules(
    path: Path = RULES_CSV, *, reset: bool = False, commit: bool = True
) -> tuple[int, int]:
    """Insert or update the rules of the shipped table by key; returns (added, updated).

    A rule an administrator edited keeps the edit (unless ``reset``); rules an administrator
    added are never touched.
    """
    added = updated = 0
    existing = {rule.key: rule for rule in db.session.scalars(select(ReferralRule))}
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            values = {
                "screening": _optional(Screening, row["screening"]),
                "form": _optional(ViolenceForm, row["form"]),
                "perpetrator": _optional(Perpetrator, row["perpetrator"]),
                "injury": _injury(row["injury"]),
                "target": ReferralTarget(row["target"].strip()),
                "within_hours": int(row["within_hours"]),
                "note": row.get("note", "").strip(),
            }
            rule = existing.get(row["key"])
            if rule is not None and rule.edited_at is not None and not reset:
                continue
            if rule is None:
                db.session.add(ReferralRule(key=row["key"], active=True, **values))
                added += 1
            elif rule.edited_at is not None or any(
                getattr(rule, name) != value for name, value in values.items()
            ):
                for name, value in values.items():
                    setattr(rule, name, value)
                rule.active, rule.edited_at, rule.updated_at = True, None, utcnow()
                updated += 1
    if added or updated:
        audit.record("referral_rules.load", None, actor_kind="system", added=added, updated=updated)
    if commit:
        db.session.commit()
    return added, updated


def rule_matches(rule: ReferralRule, case: Case) -> bool:
    if rule.screening is not None and rule.screening != case.screening:
        return False
    if rule.form is not None and rule.form not in case.violence_forms:
        return False
    if rule.perpetrator is not None and rule.perpetrator != case.perpetrator:
        return False
    return rule.injury is None or rule.injury == case.injury


@dataclass
class Requirement:
    target: ReferralTarget
    within: timedelta
    rule_keys: list[str] = field(default_factory=list)
    # The facts that made it required (an injury), ticked in the letter from the start.
    facts: set[str] = field(default_factory=set)


def requirements(case: Case) -> dict[ReferralTarget, Requirement]:
    """What the active rules require for this case: each target once, with the shortest time."""
    found: dict[ReferralTarget, Requirement] = {}
    if db.session.scalar(select(ReferralRule.id).limit(1)) is None:
        # Never triage without the rules: a database nobody loaded them into gets the shipped ones.
        log.warning("No referral rules in the database: loading the shipped table")
        load_rules(commit=False)
    rules = db.session.scalars(
        select(ReferralRule).where(ReferralRule.active.is_(True)).order_by(ReferralRule.key)
    )
    for rule in rules:
        if not rule_matches(rule, case):
            continue
        within = timedelta(hours=rule.within_hours)
        need = found.setdefault(rule.target, Requirement(rule.target, within))
        need.within = min(need.within, within)
        need.rule_keys.append(rule.key)
        if rule.injury:
            need.facts.add("injury")
    return found


def apply_rules(case: Case, *, by: User | None, now: datetime) -> list[object]:
    """Create what the rules require and the case does not have yet: a draft referral to a body
    of each required kind (addressed to the region's body when there is one), or a required
    action for the director or the parents. A requirement that no longer holds is lifted from
    unsent drafts and open actions; what was sent stays."""
    needed = requirements(case)
    created: list[object] = []
    for target, need in needed.items():
        deadline = now + need.within
        keys = ",".join(need.rule_keys)
        kind = target.body_kind
        if kind is not None:
            referral = next((r for r in case.referrals if r.body_kind == kind), None)
            if referral is None:
                referral = new_referral(
                    case, by=by, kind=kind, body=default_body(kind, case.school), now=now
                )
                created.append(referral)
            if not referral.required:
                referral.required = True
                referral.deadline_at = deadline
                referral.action.due_on = local_today(deadline)
                # The fact that makes the referral mandatory starts ticked in the letter; the
                # counselor may take it out.
                referral.facts_included = ",".join(
                    key for key in FACT_CHOICES if key in set(referral.facts) | need.facts
                )
            referral.rule_keys = keys
            referral.action.required = True
        else:
            action_kind = (
                ActionKind.inform_director
                if target == ReferralTarget.school_director
                else ActionKind.talk_parents
            )
            action = next(
                (a for a in case.actions if a.kind == action_kind and a.required), None
            ) or next((a for a in case.actions if a.kind == action_kind and not a.is_done), None)
            if action is None:
                action = plan_action(
                    case,
                    by=by,
                    kind=action_kind,
                    due_on=local_today(deadline),
                    now=now,
                    required=True,
                    rule_key=keys,
                )
                created.append(action)
            action.required = True
            action.rule_key = keys
    # Lifted requirements (e.g. the screening result was corrected).
    needed_kinds = {t.body_kind for t in needed if t.body_kind is not None}
    for referral in case.referrals:
        lifted = referral.body_kind not in needed_kinds
        if referral.required and referral.status == ReferralStatus.draft and lifted:
            referral.required = False
            referral.rule_keys = ""
            referral.action.required = False
            audit.record("referral.requirement_lifted", referral, actor=by, case_id=case.id)
    needed_actions = {
        ActionKind.inform_director for t in needed if t == ReferralTarget.school_director
    } | {ActionKind.talk_parents for t in needed if t == ReferralTarget.parents}
    for action in case.actions:
        lifted = action.kind not in needed_actions
        if action.required and action.rule_key and not action.is_done and lifted:
            action.required = False
            action.rule_key = None
    if created:
        audit.record(
            "case.rules_applied",
            case,
            actor=by,
            actor_kind=None if by else "system",
            targets=sorted(t.value for t in needed),
        )
    return created


def default_body(kind: BodyKind, school: School) -> AuthorizedBody | None:
    """The body of this kind for the school's region, else a national one."""
    return db.session.scalar(
        select(AuthorizedBody)
        .where(
            AuthorizedBody.kind == kind,
            or_(AuthorizedBody.region_id == school.region_id, AuthorizedBody.region_id.is_(None)),
        )
        .order_by(AuthorizedBody.region_id.is_(None), AuthorizedBody.id)
        .limit(1)
    )


def body_choices(school: School, kind: BodyKind | None = None) -> list[AuthorizedBody]:
    """Bodies a school may refer to: those of its region and the national ones."""
    stmt = select(AuthorizedBody).where(
        or_(AuthorizedBody.region_id == school.region_id, AuthorizedBody.region_id.is_(None))
    )
    if kind is not None:
        stmt = stmt.where(AuthorizedBody.kind == kind)
    return list(db.session.scalars(stmt.order_by(AuthorizedBody.kind, AuthorizedBody.id)))


# --- the steps of a referral ------------------------------------------------------------------


def new_referral(
    case: Case,
    *,
    by: User | None,
    kind: BodyKind,
    body: AuthorizedBody | None,
    now: datetime,
) -> Referral:
    """A draft referral, with its action in the case plan (done when the referral is sent)."""
    ensure_open(case)
    language = "kk" if "kk" in case.school.language_list else "ru"
    referral = Referral(
        case=case,
        school_id=case.school_id,
        body_kind=kind,
        body=body,
        language=language,
        facts_included=",".join(DEFAULT_FACTS),
        created_at=now,
        created_by_id=getattr(by, "id", None),
    )
    db.session.add(referral)
    db.session.flush()
    action = plan_action(case, by=by, kind=ActionKind.referral, due_on=local_today(now), now=now)
    action.referral = referral
    audit.record(
        "referral.create",
        referral,
        actor=by,
        actor_kind=None if by else "system",
        case_id=case.id,
        body_kind=kind.value,
    )
    return referral


def update_draft(
    referral: Referral,
    *,
    by: User,
    body: AuthorizedBody | None,
    language: str,
    facts: list[str],
    facts_text: str,
) -> None:
    ensure_open(referral.case)
    if referral.status != ReferralStatus.draft:
        raise WorkflowError(_l("A sent referral cannot be changed."))
    if body is not None and body.kind != referral.body_kind:
        raise WorkflowError(_l("Choose a body of the kind this referral is for."))
    if language not in LETTER_LANGUAGES:
        raise WorkflowError(_l("The letter can be written in Kazakh or Russian."))
    referral.body = body
    referral.language = language
    referral.facts_included = ",".join(key for key in FACT_CHOICES if key in facts)
    referral.facts_text = facts_text.strip()
    audit.record("referral.update", referral, actor=by, case_id=referral.case_id)


def delete_draft(referral: Referral, *, by: User) -> None:
    ensure_open(referral.case)
    if referral.status != ReferralStatus.draft or referral.required:
        raise WorkflowError(_l("Only a draft that the rules do not require can be deleted."))
    audit.record("referral.delete", referral, actor=by, case_id=referral.case_id)
    db.session.delete(referral)


def send(referral: Referral, *, by: User, reference_number: str, now: datetime) -> None:
    """The letter went out: the body's partners can now see the referral."""
    ensure_open(referral.case)
    if referral.status != ReferralStatus.draft:
        raise WorkflowError(_l("This referral has already been sent."))
    if referral.body is None:
        raise WorkflowError(_l("Choose the body the referral is addressed to."))
    reference_number = bare_number(reference_number)
    if not reference_number:
        raise WorkflowError(_l("Please give the outgoing number of the letter."))
    referral.status = ReferralStatus.sent
    referral.reference_number = reference_number
    referral.sent_at = now
    referral.sent_by_id = by.id
    if referral.action is not None and referral.action.done_at is None:
        referral.action.done_at = now
        referral.action.done_by_id = by.id
    audit.record(
        "referral.send",
        referral,
        actor=by,
        case_id=referral.case_id,
        body_id=referral.body_id,
        late=bool(referral.required and referral.deadline_at and now > referral.deadline_at),
    )
    referral.answer_due_at = answer_due(referral.body_kind, now)
    duties.referral_sent(referral, by=by, now=now)


_NUMBER_SIGN = re.compile(r"^\s*(?:№|No\.|No\s|N\s)\s*", re.IGNORECASE)


def bare_number(number: str) -> str:
    """A letter's number without the «№» a person may type with it: the pages and letters add
    the sign themselves (never «№ № 01-15/342»)."""
    return _NUMBER_SIGN.sub("", number.strip()).strip()


def is_overdue(referral: Referral, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return bool(
        referral.required
        and referral.status == ReferralStatus.draft
        and referral.deadline_at is not None
        and referral.deadline_at < now
    )


def unsent_required(case: Case) -> list[Referral]:
    return [r for r in case.referrals if r.required and r.status == ReferralStatus.draft]


def undone_required_actions(case: Case) -> list[Action]:
    return [
        a for a in case.actions if a.required and not a.is_done and a.kind != ActionKind.referral
    ]
