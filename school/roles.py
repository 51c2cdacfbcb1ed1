"""The roles, and the one table of what each role may do.

Views, services and templates ask ``user.can(Permission.x)`` (templates have ``Permission`` as a
global), ``user.sees_whole_country`` or a role's properties (``role.is_school_role``,
``role.is_regional``...), never ``user.role == Role.x``: ``tests/school/test_permissions.py``
fails on a new inline role comparison anywhere else. Which rows a permission reaches is the
scopes' business (``school.access`` for the ground, ``incidents.scopes`` for reports and cases).
"""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l

from core.model_types import TitledEnum


class Role(TitledEnum):
    admin = "admin"
    school_admin = "school_admin"
    counselor = "counselor"
    teacher = "teacher"
    analyst = "analyst"
    partner = "partner"
    # A regional (or, with no region, national) child-protection duty desk: reads and answers
    # the reports routed to it (``incidents.desk``).
    desk_officer = "desk_officer"

    @property
    def is_school_role(self) -> bool:
        """Belongs to one school (``User.school_id``)."""
        return self in SCHOOL_ROLES

    @property
    def is_regional(self) -> bool:
        """Scoped to a region, or to the whole country with none (``User.region_id``)."""
        return self in REGIONAL_ROLES

    @property
    def is_body_role(self) -> bool:
        """Belongs to an authorized body (``User.body_id``)."""
        return self is Role.partner

    @property
    def needs_confirmation(self) -> bool:
        """Given in the app only with a second person's confirmation (``school.services``)."""
        return self in CONFIRMED_ROLES

    @property
    def reach(self) -> Reach:
        return REACH[self]

    def is_one_of(self, *roles: Role) -> bool:
        """For lists of roles that are data, not rules: the dashboard's links and the roles that
        must use two-factor log-in (a setting). Views ask ``permission_required``."""
        return self in roles


ROLE_TITLES = {
    Role.admin: _l("Platform administrator"),
    Role.school_admin: _l("School administrator"),
    Role.counselor: _l("School psychologist"),
    Role.teacher: _l("Teacher"),
    Role.analyst: _l("Education analyst"),
    Role.partner: _l("Authorized body"),
    Role.desk_officer: _l("Child-protection duty desk officer"),
}
Role.TITLES = ROLE_TITLES
SCHOOL_ROLES = frozenset({Role.school_admin, Role.counselor, Role.teacher})
# Roles scoped to a region, or to the whole country when they have none.
REGIONAL_ROLES = frozenset({Role.analyst, Role.desk_officer})
# Roles given in the app only with a second person's confirmation (``school.services``): a
# counselor reads children's words; a platform administrator makes accounts and confirms them.
CONFIRMED_ROLES = frozenset({Role.counselor, Role.admin})


class Reach(enum.StrEnum):
    """Which schools' rows a role sees (``school.access.school_scope``)."""

    platform = "platform"  # every school
    school = "school"  # its own school
    region = "region"  # the schools of its region, or of the country with no region
    none = "none"  # no school rows (partners see their referrals, desk officers their desk)


REACH = {
    Role.admin: Reach.platform,
    Role.school_admin: Reach.school,
    Role.counselor: Reach.school,
    Role.teacher: Reach.school,
    Role.analyst: Reach.region,
    Role.partner: Reach.none,
    Role.desk_officer: Reach.none,
}


class Permission(enum.StrEnum):
    """What a person may do. Which rows it reaches is the scopes' business."""

    # Schools, regions, bodies, referral rules, accounts of any role; picks a school (?school=).
    manage_platform = "manage_platform"
    # Staff accounts and classes of what the user reaches.
    manage_school = "manage_school"
    # Confirms a new counselor (or platform administrator) account (``services.may_confirm``).
    confirm_accounts = "confirm_accounts"
    # The school's audit log (the platform administrator's: all of it).
    read_audit_log = "read_audit_log"
    # Case codes in the audit log (the platform administrator sees tokens only).
    read_audit_case_codes = "read_audit_case_codes"
    # The school's reports and cases, without the children's words; once confirmed.
    read_cases = "read_cases"
    # What happened, in the children's, teachers' and counselors' words; once confirmed.
    read_narrative = "read_narrative"
    # Opens, triages and works on cases; has cases of their own.
    work_cases = "work_cases"
    # Approves or declines the closure of a case.
    decide_closures = "decide_closures"
    # The poster with the school's report link.
    print_poster = "print_poster"
    # Writes named reports as a teacher and reads their own.
    write_named_reports = "write_named_reports"
    # Reads and answers the referrals sent to their body.
    answer_referrals = "answer_referrals"
    # Reads and answers the reports routed to the duty desk.
    work_desk = "work_desk"
    # The lesson library and the staff course.
    read_lessons = "read_lessons"
    # Plans and logs lessons in the classes they teach.
    teach_lessons = "teach_lessons"
    # The programme coverage of a school (every class's lessons).
    read_programme_coverage = "read_programme_coverage"
    # Opens and closes survey waves.
    open_survey_waves = "open_survey_waves"
    # Surveys of every class in reach (a teacher: only the classes they teach).
    survey_every_class = "survey_every_class"
    # Exact counts on the dashboards (analysts and exports see published counts).
    read_exact_counts = "read_exact_counts"
    # The dashboards of reports and surveys, their CSV and PDF.
    read_dashboards = "read_dashboards"
    # The programme evidence page (KPIs, the under-reporting signal, before and after).
    read_programme_evidence = "read_programme_evidence"
    # The survey waves of the school (a teacher: of the classes they teach).
    follow_survey_waves = "follow_survey_waves"
    # The results of a survey wave.
    read_survey_results = "read_survey_results"
    # Sets the school's escalation chain and working hours.
    set_escalation_chain = "set_escalation_chain"
    # Acknowledges a report an escalation notice named (the chain stops there).
    acknowledge_escalations = "acknowledge_escalations"
    # Writes and sends a case's referrals (the school psychologist; the desk for what it holds).
    write_referrals = "write_referrals"
    # Reads a case's referrals and their letters.
    read_referrals = "read_referrals"


GRANTS: dict[Permission, frozenset[Role]] = {
    Permission.manage_platform: frozenset({Role.admin}),
    Permission.manage_school: frozenset({Role.admin, Role.school_admin}),
    Permission.confirm_accounts: CONFIRMED_ROLES,
    Permission.read_audit_log: frozenset({Role.admin, Role.school_admin}),
    Permission.read_audit_case_codes: frozenset({Role.school_admin}),
    Permission.read_cases: frozenset({Role.school_admin, Role.counselor}),
    Permission.read_narrative: frozenset({Role.counselor}),
    Permission.work_cases: frozenset({Role.counselor}),
    Permission.decide_closures: frozenset({Role.school_admin}),
    Permission.print_poster: frozenset({Role.admin, Role.school_admin, Role.counselor}),
    Permission.write_named_reports: frozenset({Role.teacher}),
    Permission.answer_referrals: frozenset({Role.partner}),
    Permission.work_desk: frozenset({Role.desk_officer}),
    Permission.read_lessons: SCHOOL_ROLES | {Role.admin},
    Permission.teach_lessons: SCHOOL_ROLES,
    Permission.read_programme_coverage: frozenset({Role.admin, Role.school_admin}),
    Permission.open_survey_waves: frozenset({Role.counselor, Role.teacher}),
    Permission.survey_every_class: frozenset(
        {Role.admin, Role.analyst, Role.school_admin, Role.counselor}
    ),
    Permission.read_exact_counts: frozenset(
        {Role.admin, Role.school_admin, Role.counselor, Role.teacher}
    ),
    Permission.read_dashboards: frozenset(
        {Role.admin, Role.analyst, Role.school_admin, Role.counselor}
    ),
    Permission.read_programme_evidence: frozenset({Role.admin, Role.analyst}),
    Permission.follow_survey_waves: frozenset({Role.counselor, Role.teacher, Role.school_admin}),
    Permission.read_survey_results: frozenset(
        {Role.admin, Role.analyst, Role.school_admin, Role.counselor, Role.teacher}
    ),
    Permission.set_escalation_chain: frozenset({Role.school_admin}),
    Permission.acknowledge_escalations: frozenset({Role.counselor, Role.school_admin}),
    Permission.write_referrals: frozenset({Role.counselor, Role.desk_officer}),
    Permission.read_referrals: frozenset({Role.counselor, Role.school_admin, Role.desk_officer}),
}
# Given only once a second person has confirmed the account (``User.awaits_confirmation``).
AFTER_CONFIRMATION = frozenset({Permission.read_cases, Permission.read_narrative})


def role_may(role: Role, permission: Permission) -> bool:
    """What the role may do, before any confirmation (``User.can`` adds that)."""
    return role in GRANTS[Permission(permission)]
