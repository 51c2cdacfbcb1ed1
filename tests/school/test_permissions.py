"""The one vocabulary of permission questions (``school.roles``): each role × each permission
against what the authorization matrix expects, the answers of a real account (confirmation, the
classes a teacher teaches, the whole country), and a scan of the code and templates that fails
on a new inline role comparison (``user.role == Role.x``, ``role.value == '...'``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from school.models import Permission, Role
from school.roles import role_may
from tests import factories
from tests.test_authorization_matrix import (
    CASE_STAFF,
    DASHBOARD,
    EVIDENCE,
    LIBRARY,
    MANAGERS,
    TEACHING,
)

ROOT = Path(__file__).resolve().parents[2]

# Written from the authorization matrix's sets and the pages' rules, not from ``GRANTS``.
EXPECTED = {
    Permission.manage_platform: {"admin"},
    Permission.manage_school: MANAGERS,
    Permission.confirm_accounts: {"admin", "counselor"},
    Permission.read_audit_log: MANAGERS,
    Permission.read_audit_case_codes: {"school_admin"},
    Permission.read_cases: CASE_STAFF,
    Permission.read_narrative: {"counselor"},
    Permission.work_cases: {"counselor"},
    Permission.decide_closures: {"school_admin"},
    Permission.print_poster: {"admin", "school_admin", "counselor"},
    Permission.write_named_reports: {"teacher"},
    Permission.answer_referrals: {"partner"},
    Permission.work_desk: {"desk_officer"},
    Permission.read_lessons: LIBRARY,
    Permission.teach_lessons: TEACHING,
    Permission.read_programme_coverage: MANAGERS,
    Permission.open_survey_waves: {"counselor", "teacher"},
    Permission.survey_every_class: DASHBOARD,
    Permission.read_exact_counts: {"admin", "school_admin", "counselor", "teacher"},
    Permission.read_dashboards: DASHBOARD,
    Permission.read_programme_evidence: EVIDENCE,
    Permission.follow_survey_waves: TEACHING,
    Permission.read_survey_results: DASHBOARD | TEACHING,
    Permission.set_escalation_chain: {"school_admin"},
    Permission.acknowledge_escalations: CASE_STAFF,
    Permission.write_referrals: {"counselor", "desk_officer"},
    Permission.read_referrals: CASE_STAFF | {"desk_officer"},
}


def test_every_permission_is_expected_of_some_roles():
    assert set(EXPECTED) == set(Permission)


@pytest.mark.parametrize("permission", list(Permission), ids=str)
@pytest.mark.parametrize("role", list(Role), ids=str)
def test_each_role_may_what_the_matrix_expects(role, permission):
    assert role_may(role, permission) is (role.value in EXPECTED[permission])


def test_an_unknown_permission_is_an_error_not_a_no(app):
    user = factories.user(Role.admin)
    with pytest.raises(ValueError):
        user.can("manage_everything")


def test_cases_and_childrens_words_wait_for_confirmation(app):
    school = factories.school()
    waiting = factories.user(Role.counselor, school, case_access_confirmed_at=None)
    confirmed = factories.user(Role.counselor, school)
    assert waiting.awaits_confirmation and not confirmed.awaits_confirmation
    for permission in (Permission.read_cases, Permission.read_narrative):
        assert not waiting.can(permission)
        assert confirmed.can(permission)
    # What needs no confirmation stays (the case pages refuse the account before any of it).
    assert waiting.can(Permission.work_cases)
    admin = factories.user(Role.admin, case_access_confirmed_at=None)
    assert admin.awaits_confirmation and admin.can(Permission.manage_platform)
    assert not admin.can(Permission.read_cases)


def test_a_class_is_taught_by_its_homeroom_teacher_and_its_teachers_only(app):
    school = factories.school()
    homeroom, subject, other = (factories.user(Role.teacher, school) for _ in range(3))
    classroom = factories.classroom(school, homeroom_teacher_id=homeroom.id, teachers=[subject])
    assert classroom.is_taught_by(homeroom)
    assert classroom.is_taught_by(subject)
    assert not classroom.is_taught_by(other)


def test_the_whole_country_is_the_platform_and_regional_roles_without_a_region(app):
    region = factories.region("KZ-75")
    assert factories.user(Role.admin).sees_whole_country
    assert factories.user(Role.analyst).sees_whole_country
    assert not factories.user(Role.analyst, region_=region).sees_whole_country
    assert not factories.user(Role.school_admin).sees_whole_country
    # A desk officer reads no school's rows, whatever their region (``incidents.scopes``).
    assert not factories.user(Role.desk_officer).sees_whole_country


# --- no inline role comparison outside the one place that defines them -------------------------

PACKAGES = ("school", "incidents", "curriculum", "insights", "core", "templates")
# The one place: the roles and their permissions. Nothing else.
ALLOWED = {"school/roles.py"}
INLINE = [
    # user.role == Role.x, current_user.role in (...), user.role.value == 'admin'; not a query
    # on the column (``User.role == ...``) nor a case's people (``person.role == PersonRole.x``)
    re.compile(
        r"(?<![\w.])(?!User\.)\w+\.role(?:\.value)?\s*(?:==|!=|not\s+in\b|in\b)(?!\s*PersonRole)"
    ),
    # role == Role.partner, role in REGIONAL_ROLES, role not in (...)
    re.compile(r"(?<![\w.])role\s*(?:==|!=)\s*Role\."),
    re.compile(r"(?<![\w.])role\s+(?:not\s+)?in\s+(?:\(|\[|\{|[A-Z_]*ROLES\b)"),
    # Role.admin == user.role
    re.compile(r"Role\.\w+\s*(?:==|!=)\s*[\w.]*role\b"),
]


def inline_role_comparisons(root: Path) -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*")):
            if path.suffix not in (".py", ".html") or "__pycache__" in path.parts:
                continue
            name = path.relative_to(root).as_posix()
            if name in ALLOWED:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if any(pattern.search(line) for pattern in INLINE):
                    found.append(f"{name}:{number}: {line.strip()}")
    return found


def test_views_and_templates_ask_permissions_not_roles():
    """Ask ``user.can(Permission.x)`` (templates: the same), or a role's property
    (``role.is_school_role``, ``role.is_regional``, ``role.reach``); add a permission to
    ``school.roles`` when none fits."""
    assert inline_role_comparisons(ROOT) == []


@pytest.mark.parametrize(
    "line",
    [
        "    if current_user.role == Role.admin:",
        "    if user.role in (Role.counselor, Role.school_admin):",
        "    if actor.role != Role.admin:",
        "    if by.role not in SCHOOL_ROLES:",
        "{% if current_user.role.value == 'admin' %}",
        "{% if current_user.role.value in ('teacher', 'counselor') %}",
        "        body=body if role == Role.partner else None,",
        "        region=region if role in REGIONAL_ROLES else None,",
        "    if Role.admin == user.role:",
    ],
)
def test_the_scan_finds_each_way_of_writing_a_role_comparison(tmp_path, line):
    (tmp_path / "insights").mkdir()
    (tmp_path / "insights" / "page.py").write_text(line + "\n", encoding="utf-8")
    assert len(inline_role_comparisons(tmp_path)) == 1


@pytest.mark.parametrize(
    "line",
    [
        "    select(User).where(User.role == Role.counselor)",
        "    if person.role == PersonRole.victim:",
        "    if current_user.can(Permission.manage_platform):",
        "    role=role.value,",
    ],
)
def test_the_scan_leaves_queries_and_permissions_alone(tmp_path, line):
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "page.py").write_text(line + "\n", encoding="utf-8")
    assert inline_role_comparisons(tmp_path) == []
