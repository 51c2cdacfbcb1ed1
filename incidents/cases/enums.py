"""The vocabularies of casework: states, screening results, risk, outcomes, people, actions,
referral statuses and targets. Each value has a translated title (``.title``)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core.model_types import TitledEnum
from school.models import BodyKind


class CaseState(TitledEnum):
    new = "new"
    triaged = "triaged"
    in_progress = "in_progress"
    referred = "referred"
    monitoring = "monitoring"
    closed = "closed"

    @property
    def is_open(self) -> bool:
        return self != CaseState.closed


CaseState.TITLES = {
    CaseState.new: _l("New"),
    CaseState.triaged: _l("Triaged"),
    CaseState.in_progress: _l("In progress"),
    CaseState.referred: _l("Referred"),
    CaseState.monitoring: _l("Monitoring"),
    CaseState.closed: _l("Closed"),
}


class Screening(TitledEnum):
    bullying = "bullying"
    peer_conflict = "peer_conflict"
    peer_violence = "peer_violence"
    sexual_violence = "sexual_violence"
    cyberbullying = "cyberbullying"
    staff_violence = "staff_violence"
    home_violence = "home_violence"
    self_harm = "self_harm"
    not_safeguarding = "not_safeguarding"


Screening.TITLES = {
    Screening.bullying: _l("Bullying"),
    Screening.peer_conflict: _l("Conflict between peers"),
    Screening.peer_violence: _l("Violence by a peer"),
    Screening.sexual_violence: _l("Sexual violence or harassment"),
    Screening.cyberbullying: _l("Cyberbullying (online harassment)"),
    Screening.staff_violence: _l("Violence by school staff"),
    Screening.home_violence: _l("Violence or neglect at home"),
    Screening.self_harm: _l("Self-harm risk"),
    Screening.not_safeguarding: _l("Not a safeguarding matter"),
}


class RiskLevel(TitledEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"

    @property
    def needs_closure_approval(self) -> bool:
        return self in (RiskLevel.high, RiskLevel.critical)


RiskLevel.TITLES = {
    RiskLevel.low: _l("Low risk"),
    RiskLevel.medium: _l("Medium risk"),
    RiskLevel.high: _l("High risk"),
    RiskLevel.critical: _l("Critical risk"),
}


class Outcome(TitledEnum):
    resolved = "resolved"
    unfounded = "unfounded"
    transferred = "transferred"
    duplicate = "duplicate"


Outcome.TITLES = {
    Outcome.resolved: _l("Resolved"),
    Outcome.unfounded: _l("Unfounded"),
    Outcome.transferred: _l("Transferred to another body"),
    Outcome.duplicate: _l("Duplicate of another case"),
}


class PersonRole(TitledEnum):
    victim = "victim"
    perpetrator = "perpetrator"
    witness = "witness"
    parent = "parent"
    other = "other"


PersonRole.TITLES = {
    PersonRole.victim: _l("Child who was hurt"),
    PersonRole.perpetrator: _l("Person who did it"),
    PersonRole.witness: _l("Witness"),
    PersonRole.parent: _l("Parent or guardian"),
    PersonRole.other: _l("Other"),
}


class PersonKind(TitledEnum):
    student = "student"
    staff = "staff"
    family = "family"
    other_adult = "other_adult"


PersonKind.TITLES = {
    PersonKind.student: _l("Student"),
    PersonKind.staff: _l("School staff"),
    PersonKind.family: _l("Family member"),
    PersonKind.other_adult: _l("Other adult"),
}


class ActionKind(TitledEnum):
    talk_victim = "talk_victim"
    talk_perpetrator = "talk_perpetrator"
    talk_parents = "talk_parents"
    class_intervention = "class_intervention"
    safety_plan = "safety_plan"
    follow_up = "follow_up"
    referral = "referral"
    inform_director = "inform_director"
    other = "other"


ActionKind.TITLES = {
    ActionKind.talk_victim: _l("Talk with the child who was hurt"),
    ActionKind.talk_perpetrator: _l("Talk with the person who did it"),
    ActionKind.talk_parents: _l("Talk with parents or guardians"),
    ActionKind.class_intervention: _l("Class intervention"),
    ActionKind.safety_plan: _l("Safety plan"),
    ActionKind.follow_up: _l("Follow-up check"),
    ActionKind.referral: _l("Referral to an authorized body"),
    ActionKind.inform_director: _l("Inform the school director"),
    ActionKind.other: _l("Other action"),
}
# Kinds a counselor plans by hand; referrals and rule-required duties are created by the system.
PLANNED_ACTION_KINDS = [
    ActionKind.talk_victim,
    ActionKind.talk_perpetrator,
    ActionKind.talk_parents,
    ActionKind.class_intervention,
    ActionKind.safety_plan,
    ActionKind.follow_up,
    ActionKind.inform_director,
    ActionKind.other,
]


class ReferralStatus(TitledEnum):
    draft = "draft"
    sent = "sent"
    acknowledged = "acknowledged"
    closed = "closed"

    @property
    def is_sent(self) -> bool:
        return self != ReferralStatus.draft


ReferralStatus.TITLES = {
    ReferralStatus.draft: _l("Draft, not sent"),
    ReferralStatus.sent: _l("Sent"),
    ReferralStatus.acknowledged: _l("Acknowledged by the body"),
    ReferralStatus.closed: _l("Closed with an outcome"),
}


class ReferralTarget(TitledEnum):
    """Who a rule says must be told: an authorized body of a kind, or a person at school."""

    police = "police"
    guardianship = "guardianship"
    health = "health"
    education = "education"
    ombudsman = "ombudsman"
    social = "social"
    school_director = "school_director"
    parents = "parents"

    @property
    def body_kind(self) -> BodyKind | None:
        return BodyKind(self.value) if self.value in BodyKind.__members__ else None


ReferralTarget.TITLES = {
    ReferralTarget.police: _l("Police (juvenile affairs)"),
    ReferralTarget.guardianship: _l("Guardianship and trusteeship body"),
    ReferralTarget.health: _l("Health services"),
    ReferralTarget.education: _l("Education department"),
    ReferralTarget.ombudsman: _l("Commissioner for children's rights"),
    ReferralTarget.social: _l("Social protection services"),
    ReferralTarget.school_director: _l("School director"),
    ReferralTarget.parents: _l("Parents or guardians"),
}


class ClosureDecision(TitledEnum):
    pending = "pending"
    approved = "approved"
    declined = "declined"


ClosureDecision.TITLES = {
    ClosureDecision.pending: _l("Waiting for approval"),
    ClosureDecision.approved: _l("Approved"),
    ClosureDecision.declined: _l("Declined"),
}


class Disposition(TitledEnum):
    """What the body answered to a referral (a referral must be answered)."""

    accepted = "accepted"
    declined = "declined"
    transferred = "transferred"
    closed = "closed"

    @property
    def closes(self) -> bool:
        """Every answer but "accepted" ends the body's part; an accepted one closes later."""
        return self != Disposition.accepted


Disposition.TITLES = {
    Disposition.accepted: _l("Accepted for work"),
    Disposition.declined: _l("Declined"),
    Disposition.transferred: _l("Transferred to another body"),
    Disposition.closed: _l("Closed with an outcome"),
}


class DutyMet(TitledEnum):
    """How a counselor met a legal duty on a case."""

    done = "done"
    referral = "referral"
    not_needed = "not_needed"


DutyMet.TITLES = {
    DutyMet.done: _l("Done as required"),
    DutyMet.referral: _l("By the referral sent"),
    DutyMet.not_needed: _l("Not needed in this case (reason given)"),
}
