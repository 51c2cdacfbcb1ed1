"""Hostile input to every form: never a 500, a message in the reader's language, nothing written.

Each form of ``FORMS`` is described by who posts it where, a complete valid submission, the kind
of each field and the tables it writes. Two properties are checked with Hypothesis:

- ``test_invalid_input_is_refused_in_the_readers_language_and_writes_nothing``: one field of a
  valid submission is replaced by a value that is wrong by construction (too long, with control
  characters, blank or missing when required, not one of the choices, not a number or out of
  range, not a date, the id of another school's object, a huge or negative id); the answer is the
  form's refusal (its documented status), in Kazakh or Russian as the reader asked (the page's
  language; each error message on it contains Cyrillic; for text fields the exact message), and
  the tables are unchanged.
- ``test_any_input_gets_an_answer_and_a_refusal_writes_nothing``: any value (random text, HTML,
  SQL, huge numbers, lists) for any field: never a 5xx, and a 4xx writes nothing. HTML sent back
  on the page is escaped.

Then the search forms (GET), forged ids in addresses, the survey answers, and uploads (a faked
extension, a decompression bomb, a corrupt file, random damage to a real picture).

Runs reproducibly by default (the ``ci`` profile: derandomized); ``HYPOTHESIS_PROFILE=dev``
explores new examples on each run.
"""

from __future__ import annotations

import html
import io
import itertools
import os
import re
import secrets
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import pytest
from flask_babel import force_locale, gettext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from sqlalchemy import select

import incidents.intake.receipts
from core.opaque import opaque
from extensions import db
from incidents.cases.enums import (
    PLANNED_ACTION_KINDS,
    CaseState,
    Outcome,
    PersonKind,
    PersonRole,
    ReferralTarget,
    RiskLevel,
    Screening,
)
from incidents.intake.models import Frequency, Perpetrator, Place, Priority, Victim, ViolenceForm
from incidents.intake.models import WhenHappened as When
from incidents.referrals.services import FACT_CHOICES, LETTER_LANGUAGES
from insights.models import WaveKind
from school.models import BodyKind, Role
from tests.incidents.factories import form_data, jpeg_bytes, png_bytes
from tests.two_schools import ANONYMOUS, Clients, World, build_world, fingerprint, fresh, module_app

# Fast receipt hashes here; production keeps RFC 9106's parameters (see incidents.intake.receipts).
incidents.intake.receipts.ARGON2 = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}

settings.register_profile(
    "ci",
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev",
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
LOCALES = ("kk", "ru")
CYRILLIC = re.compile(r"[А-Яа-яЁёӘәҒғҚқҢңӨөҰұҮүҺһІі]")
MISSING = object()

CONTROL = [chr(c) for c in (*range(0, 9), 11, 12, *range(14, 32), 127, 133, 155)]
HOSTILE_TEXT = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "' OR '1'='1",
    "'; DROP TABLE reports; --",
    "1; SELECT pg_sleep(5)",
    "{{ 7*7 }}",
    "%s%s%n",
    "../../../etc/passwd",
    "\u202egnp.exe",
    "\ufeff",
    "𝕏😀👩‍👩‍👧",
    "None",
    "null",
    "[]",
]
HOSTILE_NUMBERS = [
    str(2**31),
    str(2**63),
    str(10**30),
    "-1",
    "-" + str(2**63),
    "0",
    "1e309",
    "NaN",
    "inf",
    "0x1F",
    "1.5",
    "٣",
    "１２",
    " ",
]
ANY_VALUE = st.one_of(
    st.sampled_from(HOSTILE_TEXT + HOSTILE_NUMBERS + CONTROL),
    st.text(max_size=40),
    st.integers().map(str),
    st.lists(st.sampled_from(HOSTILE_TEXT + HOSTILE_NUMBERS), min_size=2, max_size=3),
    st.just(MISSING),
)
LETTERS = st.sampled_from("абвгәғқңөұүһіaz ")


# --- what a field is ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    limit: int
    control: bool = True  # refuses control characters
    required: bool = False
    too_long: str = "At most %(max)d characters, please."  # a child's text: "Write at most..."


CHILD_TOO_LONG = "Write at most %(max)d characters."


@dataclass(frozen=True)
class Choice:
    values: Callable[[World], list[str]] | list[str]
    required: bool = True
    multiple: bool = False

    def allowed(self, world: World) -> set[str]:
        values = self.values(world) if callable(self.values) else self.values
        return {str(v) for v in values}


@dataclass(frozen=True)
class Number:
    low: int
    high: int
    default: bool = False  # a missing value takes the field's default
    optional: bool = False  # a missing or blank value means "not given" (None)


@dataclass(frozen=True)
class Day:
    """A date (YYYY-MM-DD) that must be given."""


@dataclass(frozen=True)
class Email:
    required: bool = True


def _as_int(value: str):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _as_date(value: str):
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        try:
            from datetime import datetime

            return datetime.strptime(value, "%Y-%m-%d").date()
        except ValueError:
            return None


def invalid(kind, world: World, keeps_missing: bool = False):
    """Values of this field that must be refused, each with the message expected (or None).
    ``keeps_missing``: the form edits a stored object, whose value a missing field keeps."""
    if keeps_missing:
        return invalid(kind, world).filter(lambda pair: pair[0] is not MISSING)
    if isinstance(kind, Text):
        options = [
            st.builds(
                lambda head, tail: head + tail,
                st.just("ж" * kind.limit),
                st.text(LETTERS, min_size=1, max_size=5),
            ).map(lambda v: (v, (kind.too_long, {"max": kind.limit})))
        ]
        if kind.control:
            options.append(
                st.tuples(
                    st.text(LETTERS.filter(str.strip), min_size=1, max_size=10),
                    st.sampled_from(CONTROL),
                    st.text(LETTERS, max_size=10),
                ).map(
                    lambda t: (
                        "".join(t),
                        ("The text contains characters that cannot be saved.", {}),
                    )
                )
            )
        if kind.required:
            options.append(
                st.sampled_from([MISSING, "", "   ", "\n"]).map(
                    lambda v: (v, ("Please fill in this field.", {}))
                )
            )
        return st.one_of(options)
    if isinstance(kind, Choice):
        allowed = kind.allowed(world)
        other = _other_school_ids(world)
        wrong = st.one_of(
            st.sampled_from(HOSTILE_TEXT + HOSTILE_NUMBERS + other), st.text(max_size=12)
        ).filter(lambda v: v not in allowed and str(_as_int(v)) not in allowed and v.strip())
        if kind.multiple:
            wrong = st.lists(wrong, min_size=1, max_size=3).map(lambda vs: vs + sorted(allowed)[:1])
        options = [wrong]
        if kind.required:
            options.append(st.just(MISSING))
        return st.one_of(options).map(lambda v: (v, None))
    if isinstance(kind, Number):
        in_range = range(kind.low, kind.high + 1)
        blank = [] if kind.optional else [st.just("" if kind.default else MISSING)]
        return (
            st.one_of(
                st.sampled_from(HOSTILE_NUMBERS + HOSTILE_TEXT),
                st.integers().filter(lambda n: n not in in_range).map(str),
                *blank,
            )
            .filter(
                lambda v: (
                    v is MISSING
                    or (_as_int(v) not in in_range and not (kind.optional and not v.strip()))
                )
            )
            .map(lambda v: (v, None))
        )
    if isinstance(kind, Day):
        return (
            st.one_of(
                st.sampled_from(
                    ["2026-02-30", "31.12.2026", "tomorrow", "99999-01-01", "0000-00-00"]
                    + HOSTILE_TEXT
                    + HOSTILE_NUMBERS
                ),
                st.text(max_size=12),
                st.just(MISSING),
            )
            .filter(lambda v: v is MISSING or _as_date(v) is None)
            .map(lambda v: (v, None))
        )
    if isinstance(kind, Email):
        wrong = st.one_of(
            st.sampled_from(
                ["plainaddress", "@no-local.kz", "a@", "a b@c.kz", "<script>@x.kz", "a@b@c.kz"]
            ),
            st.just("a" * 250 + "@x.kz"),
        )
        if kind.required:
            wrong = st.one_of(wrong, st.just(MISSING))
        return wrong.map(lambda v: (v, None))
    raise TypeError(kind)


def _other_school_ids(world: World) -> list[str]:
    """Ids of the other school's objects: a forged choice must not reach them."""
    keys = ("user", "classroom", "school", "body", "case", "person", "action", "referral")
    return [str(world.other[key]) for key in keys] + [
        str(uid) for uid in world.other.users.values()
    ]


# --- the forms ---------------------------------------------------------------------------------

_seq = itertools.count(1)


@dataclass(frozen=True)
class Form:
    """A form: who posts it (a role of school A), where, a complete valid submission, its
    fields, the tables it writes, the status of a refusal, and how to open the session."""

    name: str
    role: str
    url: Callable[[World], str]
    valid: Callable[[World], dict]
    fields: dict[str, object]
    tables: tuple[str, ...]
    refused: frozenset[int] = frozenset({400})
    prepare: Callable[[object, World], None] | None = None
    # Fields a refusal may leave unmentioned on the page (hidden fields, forged choices).
    silent: frozenset[str] = field(default_factory=frozenset)
    keeps_missing: bool = False  # the form edits a stored object: a missing field keeps its value

    def _repr_pretty_(self, printer, cycle) -> None:  # Hypothesis prints examples with it
        printer.text(f"Form({self.name!r})")


def version_of(case_id: int) -> str:
    from incidents.cases.models import Case

    value = db.session.scalar(select(Case.version).where(Case.id == case_id))
    db.session.rollback()
    return str(value)


CASES: dict[str, int] = {}


# The state a case form's case starts in (its form is on the page only then).
CASE_STATES = {"triage": "new_case", "reopen": "closed_case"}


def case_for(form: str, world: World) -> int:
    """A case of its own for each case form, so that a valid save never changes another's."""
    if form not in CASES:
        CASES[form] = fresh(CASE_STATES.get(form, "case"), world.own)
    return CASES[form]


def draft_for(form: str, world: World) -> int:
    key = f"draft-{form}"
    if key not in CASES:
        CASES[key] = fresh("draft_referral", world.own)
    return CASES[key]


def people_of(case_id: int) -> list[int]:
    from incidents.cases.models import InvolvedPerson

    ids = list(
        db.session.scalars(select(InvolvedPerson.id).where(InvolvedPerson.case_id == case_id))
    )
    db.session.rollback()
    return ids


def lessons_of_band(band: str) -> list[str]:
    from curriculum.models import Lesson

    slugs = list(db.session.scalars(select(Lesson.slug).where(Lesson.band == band)))
    db.session.rollback()
    return slugs


def teachers_of(world: World) -> list[int]:
    return [world.own.users[Role.teacher], world.own["user"]]


def open_conversation(client, world: World) -> None:
    response = client.post("/r/check", data={"code": world.own["receipt"]})
    assert response.status_code == 303


def acknowledged(client, world: World) -> None:
    """An outcome is recorded only after the receipt is acknowledged (issue 20)."""
    url = f"/partner/referrals/{opaque(world.own['sent_referral'])}/acknowledge"
    assert client.post(url, data={}).status_code in (302, 409)


def own_police(world: World) -> int:
    return world.own["body"]


def bodies_for(world: World, kind: BodyKind | None = None) -> list[int]:
    """The bodies school A may refer to now (the tests of the admin's forms may add some)."""
    from incidents.referrals.services import body_choices
    from school.models import School

    ids = [b.id for b in body_choices(db.session.get(School, world.own["school"]), kind)]
    db.session.rollback()
    return ids


CASE_TABLES = (
    "cases",
    "case_transitions",
    "case_people",
    "case_actions",
    "referrals",
    "closure_requests",
    "priority_changes",
    "messages",
    "audit_entries",
)
REPORT_TABLES = ("reports", "report_forms", "messages", "attachments", "audit_entries")
ENUM = lambda cls: [m.value for m in cls]  # noqa: E731 - a short table helper
CASE = lambda name: lambda w: f"/staff/cases/{opaque(case_for(name, w))}"  # noqa: E731


def report_form_data(world: World) -> dict:
    return form_data(token=secrets.token_hex(16))


FORMS = [
    # --- the student's side ------------------------------------------------------------------
    Form(
        "report",
        ANONYMOUS,
        lambda w: f"/r/{w.own['school_code']}",
        report_form_data,
        {
            "forms": Choice(ENUM(ViolenceForm), multiple=True),
            "victim": Choice(ENUM(Victim)),
            "perpetrator": Choice(ENUM(Perpetrator)),
            "place": Choice(ENUM(Place)),
            "frequency": Choice(ENUM(Frequency)),
            "happened": Choice(ENUM(When)),
            "grade_band": Choice(["1-4", "5-9", "10-11"], required=False),
            "description": Text(3000, too_long=CHILD_TOO_LONG),
        },
        REPORT_TABLES,
    ),
    Form(
        "danger",
        ANONYMOUS,
        lambda w: f"/r/{w.own['school_code']}/danger",
        lambda w: {"description": "Мен қауіптемін", "token": secrets.token_hex(16)},
        {"description": Text(3000, too_long=CHILD_TOO_LONG)},
        REPORT_TABLES,
    ),
    Form(
        "receipt check",
        ANONYMOUS,
        lambda w: "/r/check",
        lambda w: {"code": "0000 0000 0000 0000"},
        {"code": Text(40, control=False)},
        REPORT_TABLES,
        refused=frozenset({200}),
    ),
    Form(
        "conversation",
        ANONYMOUS,
        lambda w: "/r/conversation",
        lambda w: {"body": "Рақмет, түсіндім."},
        {"body": Text(3000, too_long=CHILD_TOO_LONG)},
        REPORT_TABLES,
        prepare=open_conversation,
    ),
    Form(
        "survey code",
        ANONYMOUS,
        lambda w: "/s",
        lambda w: {"code": "ABCD-EFGH-JKMN"},
        {"code": Text(24, required=True)},
        ("survey_codes", "survey_responses", "survey_answers", "survey_tallies"),
        refused=frozenset({200}),
    ),
    Form(
        "log-in",
        ANONYMOUS,
        lambda w: "/login",
        lambda w: {"email": "nobody@example.kz", "password": "wrong password 1"},
        {"email": Text(254, control=False, required=True), "password": Text(200, False, True)},
        ("users", "audit_entries"),
        refused=frozenset({200}),
    ),
    # --- one's own account and the directory -------------------------------------------------
    Form(
        "password change",
        "teacher",
        lambda w: "/account/password",
        lambda w: {
            "current": "not the password",
            "new": "a new long password 7",
            "confirm": "a new long password 7",
        },
        {
            "current": Text(200, control=False, required=True),
            "new": Text(200, control=False, required=True),
        },
        ("users", "audit_entries"),
        refused=frozenset({200}),
    ),
    Form(
        "staff account",
        "school_admin",
        lambda w: "/staff/accounts/new",
        lambda w: {
            "full_name": "Жаңа Мұғалім",
            "email": f"new{next(_seq)}@example.kz",
            "role": "teacher",
            "school_id": "0",
            "region_id": "0",
            "body_id": "0",
            "locale": "kk",
            "active": "y",
        },
        {
            "full_name": Text(200, required=True),
            "email": Email(),
            # A school administrator cannot make an administrator, an analyst or a partner.
            "role": Choice(["school_admin", "counselor", "teacher"]),
            "school_id": Choice(["0"], required=False),
            "region_id": Choice(["0"], required=False),
            "body_id": Choice(["0"], required=False),
            "locale": Choice(["kk", "ru", "en"]),
        },
        ("users", "audit_entries"),
        refused=frozenset({200}),
        silent=frozenset({"school_id", "region_id", "body_id"}),
    ),
    Form(
        "staff account edit",
        "school_admin",
        lambda w: f"/staff/accounts/{w.own['user']}",
        lambda w: {
            "full_name": "Мұғалім Екі",
            "email": "a-name-teacher-2-q7x@example.kz",
            "role": "teacher",
            "school_id": "0",
            "region_id": "0",
            "body_id": "0",
            "locale": "ru",
            "active": "y",
        },
        {
            "full_name": Text(200, required=True),
            "email": Email(),
            "role": Choice(["school_admin", "counselor", "teacher"]),
            "school_id": Choice(["0"], required=False),
            "locale": Choice(["kk", "ru", "en"]),
        },
        ("users", "audit_entries"),
        refused=frozenset({200}),
        keeps_missing=True,
        silent=frozenset({"school_id"}),
    ),
    Form(
        "class",
        "school_admin",
        lambda w: "/school/classes/new",
        lambda w: {
            "grade": "9",
            "letter": "Ә",
            "language": "kk",
            "students": "28",
            "homeroom_teacher_id": "0",
            "teacher_ids": [str(w.own.users[Role.teacher])],
        },
        {
            "grade": Number(1, 11),
            "students": Number(0, 60, optional=True),
            "language": Choice(["kk", "ru", "en"], required=False),
            "homeroom_teacher_id": Choice(
                lambda w: [
                    0,
                    *teachers_of(w),
                    w.own.users[Role.counselor],
                    w.own.users[Role.school_admin],
                ],
                required=False,
            ),
            "teacher_ids": Choice(
                lambda w: [
                    *teachers_of(w),
                    w.own.users[Role.counselor],
                    w.own.users[Role.school_admin],
                ],
                required=False,
                multiple=True,
            ),
        },
        ("classrooms", "class_teachers", "audit_entries"),
        refused=frozenset({200}),
    ),
    Form(
        "school",
        "admin",
        lambda w: "/admin/schools/new",
        lambda w: {
            "name": f"Жаңа мектеп {next(_seq)}",
            "region_id": str(w.own["region"]),
            "languages": ["kk"],
            "address": "",
            "phone": "",
        },
        {
            "name": Text(200, required=True),
            "name_ru": Text(200),
            "region_id": Choice(
                lambda w: [w.own["region"], w.other["region"]] + list(range(1, 21))
            ),
            "languages": Choice(["kk", "ru", "en"], multiple=True),
            "address": Text(300),
            "phone": Text(40),
        },
        ("schools", "audit_entries"),
        refused=frozenset({200}),
    ),
    Form(
        "region",
        "admin",
        lambda w: f"/admin/regions/{w.own['region']}",
        lambda w: {"name_kk": "Астана", "name_ru": "Астана", "name_en": "Astana"},
        {
            "name_kk": Text(120, required=True),
            "name_ru": Text(120, required=True),
            "name_en": Text(120, required=True),
        },
        ("regions", "audit_entries"),
        refused=frozenset({200}),
        keeps_missing=True,
    ),
    Form(
        "authorized body",
        "admin",
        lambda w: "/admin/bodies/new",
        lambda w: {
            "kind": "police",
            "region_id": "0",
            "name_kk": "Полиция",
            "name_ru": "Полиция",
            "name_en": "",
            "email": "",
            "phone": "",
            "address": "",
        },
        {
            "kind": Choice(ENUM(BodyKind)),
            "region_id": Choice(lambda w: [0] + list(range(1, 21)), required=False),
            "name_kk": Text(200, required=True),
            "name_ru": Text(200, required=True),
            "name_en": Text(200),
            "email": Email(required=False),
            "phone": Text(40),
            "address": Text(300),
        },
        ("authorized_bodies", "audit_entries"),
        refused=frozenset({200}),
    ),
    Form(
        "referral rule",
        "admin",
        lambda w: "/admin/referral-rules/new",
        lambda w: {
            "key": f"rule-{next(_seq)}",
            "screening": "bullying",
            "form": "",
            "perpetrator": "",
            "injury": "",
            "target": "police",
            "within_hours": "24",
            "note": "",
            "active": "y",
        },
        {
            "key": Text(60, required=True),
            "screening": Choice([""] + ENUM(Screening), required=False),
            "form": Choice([""] + ENUM(ViolenceForm), required=False),
            "injury": Choice(["", "yes", "no"], required=False),
            "target": Choice(ENUM(ReferralTarget)),
            "within_hours": Number(0, 720),
            "note": Text(300),
        },
        ("referral_rules", "audit_entries"),
    ),
    # --- the case ----------------------------------------------------------------------------
    Form(
        "triage",
        "counselor",
        lambda w: CASE("triage")(w) + "/triage",
        lambda w: {
            "screening": "bullying",
            "risk": "medium",
            "counselor_id": str(w.own.users[Role.counselor]),
            "version": version_of(case_for("triage", w)),
        },
        {
            "screening": Choice(ENUM(Screening)),
            "risk": Choice(ENUM(RiskLevel)),
            # Only a counselor of the school: not its teacher, not the other school's counselor.
            "counselor_id": Choice(lambda w: [w.own.users[Role.counselor]]),
        },
        CASE_TABLES,
    ),
    Form(
        "case details",
        "counselor",
        lambda w: CASE("details")(w) + "/details",
        lambda w: {
            "screening": "",
            "risk": "",
            "counselor_id": str(w.own.users[Role.counselor]),
            "narrative": "Сынып жетекшісімен сөйлестім.",
            "version": version_of(case_for("details", w)),
        },
        {
            "screening": Choice([""] + ENUM(Screening), required=False),
            "risk": Choice([""] + ENUM(RiskLevel), required=False),
            "counselor_id": Choice(lambda w: [0, w.own.users[Role.counselor]], required=False),
            "narrative": Text(20000),
        },
        CASE_TABLES,
    ),
    Form(
        "case step",
        "counselor",
        lambda w: CASE("step")(w) + "/step",
        lambda w: {"to_state": "monitoring", "version": version_of(case_for("step", w))},
        {"to_state": Choice(ENUM(CaseState))},
        CASE_TABLES,
        silent=frozenset({"to_state"}),
    ),
    Form(
        "case closing",
        "counselor",
        lambda w: CASE("close")(w) + "/close",
        lambda w: {
            "outcome": "resolved",
            "closing_note": "Бәрі жақсы.",
            "version": version_of(case_for("close", w)),
        },
        {"outcome": Choice(ENUM(Outcome)), "closing_note": Text(4000, required=True)},
        CASE_TABLES,
    ),
    Form(
        "case reopening",
        "counselor",
        lambda w: CASE("reopen")(w) + "/reopen",
        lambda w: {"reason": "Жаңа хабар", "version": version_of(case_for("reopen", w))},
        {"reason": Text(500, required=True)},
        CASE_TABLES,
    ),
    Form(
        "priority",
        "counselor",
        lambda w: CASE("priority")(w) + "/priority",
        lambda w: {
            "priority": "high",
            "reason": "Қайталанды",
            "version": version_of(case_for("priority", w)),
        },
        {"priority": Choice(ENUM(Priority)), "reason": Text(500, required=True)},
        CASE_TABLES,
    ),
    Form(
        "person",
        "counselor",
        lambda w: CASE("person")(w) + "/people",
        lambda w: {
            "role": "witness",
            "kind": "student",
            "classroom_id": str(w.own["classroom"]),
            "alias": "А.Б.",
        },
        {
            "role": Choice(ENUM(PersonRole)),
            "kind": Choice(ENUM(PersonKind)),
            "classroom_id": Choice(lambda w: [0, w.own["classroom"]], required=False),
            "alias": Text(40),
        },
        CASE_TABLES,
    ),
    Form(
        "action",
        "counselor",
        lambda w: CASE("action")(w) + "/actions",
        lambda w: {
            "kind": "talk_parents",
            "person_id": "0",
            "lesson_slug": "",
            "due_on": "2026-10-01",
        },
        {
            "kind": Choice([k.value for k in PLANNED_ACTION_KINDS]),
            "person_id": Choice(lambda w: [0, *people_of(case_for("action", w))], required=False),
            "lesson_slug": Choice(lambda w: ["", *lessons_of_band("5-9")], required=False),
            "due_on": Day(),
        },
        CASE_TABLES,
    ),
    Form(
        "action done",
        "counselor",
        lambda w: f"/staff/cases/{opaque(w.own['case'])}/actions/{opaque(w.own['action'])}/done",
        lambda w: {"note": "Ата-анасымен сөйлестім."},
        {"note": Text(4000)},
        CASE_TABLES,
        refused=frozenset({302}),
    ),
    Form(
        "message to the student",
        "counselor",
        lambda w: CASE("message")(w) + "/messages",
        lambda w: {"body": "Сәлем! Біз сенімен сөйлескіміз келеді."},
        {"body": Text(4000, required=True)},
        CASE_TABLES,
    ),
    Form(
        "new referral",
        "counselor",
        lambda w: CASE("referral")(w) + "/referrals",
        lambda w: {"body_id": str(own_police(w))},
        {"body_id": Choice(lambda w: bodies_for(w))},
        CASE_TABLES,
        silent=frozenset({"body_id"}),
    ),
    Form(
        "referral draft",
        "counselor",
        lambda w: f"/staff/referrals/{opaque(draft_for('draft', w))}",
        lambda w: {
            "body_id": str(own_police(w)),
            "language": "kk",
            "facts": ["forms"],
            "facts_text": "Сыныпта болды.",
        },
        {
            "body_id": Choice(lambda w: [0, *bodies_for(w, BodyKind.police)], required=False),
            "language": Choice(list(LETTER_LANGUAGES)),
            "facts": Choice(list(FACT_CHOICES), required=False, multiple=True),
            "facts_text": Text(4000),
        },
        CASE_TABLES,
    ),
    Form(
        "referral sending",
        "counselor",
        lambda w: f"/staff/referrals/{opaque(draft_for('send', w))}/send",
        lambda w: {"reference_number": "№ 12"},
        {"reference_number": Text(40, required=True)},
        CASE_TABLES,
    ),
    Form(
        "closure decision",
        "school_admin",
        lambda w: f"/staff/approvals/{opaque(w.own['closure'])}",
        lambda w: {"decision": "decline", "note": "Тағы бір кездесу керек."},
        {"decision": Choice(["approve", "decline"]), "note": Text(500)},
        CASE_TABLES,
        refused=frozenset({302}),
    ),
    Form(
        "acknowledgement",
        "partner",
        lambda w: f"/partner/referrals/{opaque(w.own['sent_referral'])}/acknowledge",
        lambda w: {"body_reference": "ПД-17"},
        {"body_reference": Text(60)},
        CASE_TABLES,
    ),
    Form(
        "referral outcome",
        "partner",
        lambda w: f"/partner/referrals/{opaque(w.own['sent_referral'])}/outcome",
        lambda w: {"outcome_note": "Тексерілді.", "confirm": "y"},
        {"outcome_note": Text(4000, required=True)},
        CASE_TABLES,
        prepare=acknowledged,
    ),
    Form(
        "teacher's report",
        "teacher",
        lambda w: "/staff/my-reports/new",
        lambda w: {
            "forms": ["physical"],
            "perpetrator": "students",
            "place": "yard",
            "happened": "today",
            "classroom_id": str(w.own["classroom"]),
            "description": "Үзілісте екі бала төбелесті.",
        },
        {
            "forms": Choice(ENUM(ViolenceForm), multiple=True),
            "perpetrator": Choice(ENUM(Perpetrator)),
            "place": Choice(ENUM(Place)),
            "happened": Choice(ENUM(When)),
            "classroom_id": Choice(lambda w: [0, w.own["classroom"]], required=False),
            "description": Text(8000, required=True),
        },
        ("teacher_reports", "teacher_report_forms", "audit_entries"),
    ),
    # --- lessons and surveys -----------------------------------------------------------------
    Form(
        "lesson plan",
        "teacher",
        lambda w: f"/lessons/classes/{w.own['classroom']}/plan",
        lambda w: {"lesson": lessons_of_band("5-9")[0], "planned_for": "2026-11-02"},
        {"lesson": Choice(lambda w: lessons_of_band("5-9")), "planned_for": Day()},
        ("lesson_plans", "audit_entries"),
    ),
    Form(
        "lesson delivery",
        "teacher",
        lambda w: f"/lessons/classes/{w.own['classroom']}/deliver/{w.globals['lesson']}",
        lambda w: {
            "delivered_on": "2026-01-12",
            "language": "kk",
            "minutes_used": "40",
            "students_present": "20",
            "steps_done": ["0", "1"],
            "reflection": "Балалар белсенді болды.",
        },
        {
            "delivered_on": Day(),
            "language": Choice(["kk", "ru", "en"]),
            "minutes_used": Number(1, 240),
            "students_present": Number(0, 60),
            "steps_done": Choice([str(i) for i in range(3)], required=False, multiple=True),
            "reflection": Text(2000),
        },
        ("lesson_deliveries", "audit_entries"),
        refused=frozenset({200}),
    ),
    Form(
        "survey wave",
        "teacher",
        lambda w: f"/insights/classes/{w.own['classroom']}/survey",
        lambda w: {"kind": "follow_up", "students": "20", "days_open": "14"},
        {
            "kind": Choice(ENUM(WaveKind)),
            "students": Number(1, 60),
            "days_open": Number(1, 60, default=True),
        },
        ("survey_waves", "survey_codes", "survey_tallies", "audit_entries"),
        refused=frozenset({200}),
    ),
]


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def input_app(_schema, tmp_path_factory):
    with module_app(_schema, tmp_path_factory.mktemp("input-instance")) as app:
        yield app


@pytest.fixture(scope="module")
def world(input_app) -> World:
    CASES.clear()
    return build_world()


@pytest.fixture(scope="module")
def clients(input_app, world) -> Clients:
    return Clients(input_app, world)


def in_language(client, locale: str) -> None:
    """The reader chose this language (as the switcher does, without touching the account)."""
    with client.session_transaction() as session:
        session["locale"] = locale
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = locale


def submission(form: Form, world: World, name: str, value) -> dict:
    data = form.valid(world)
    if value is MISSING:
        data.pop(name, None)
    else:
        data[name] = value
    return data


def translated(app, msgid: str, params: dict, locale: str) -> str:
    with app.test_request_context(), force_locale(locale):
        return gettext(msgid, **params)


ERROR = re.compile(r'<p class="(?:error|flash flash-error)"[^>]*>(.*?)</p>', re.S)


def error_messages(page: str) -> list[str]:
    return [html.unescape(re.sub(r"<[^>]+>", "", text)).strip() for text in ERROR.findall(page)]


def assert_in_language(page: str, locale: str, label: str) -> None:
    assert f'<html lang="{locale}">' in page, f"{label}: the page is not in {locale}"
    for message in error_messages(page):
        assert CYRILLIC.search(message), f"{label}: error not translated: {message!r}"


# --- the properties ----------------------------------------------------------------------------


@pytest.mark.parametrize("form", FORMS, ids=[f.name for f in FORMS])
@settings(parent=PROFILE)
@given(data=st.data())
def test_invalid_input_is_refused_in_the_readers_language_and_writes_nothing(
    input_app, world, clients, form, data
):
    name = data.draw(st.sampled_from(sorted(form.fields)), label="field")
    value, message = data.draw(invalid(form.fields[name], world, form.keeps_missing), label="value")
    locale = data.draw(st.sampled_from(LOCALES), label="locale")
    client = clients[form.role]
    if form.prepare:
        form.prepare(client, world)
    in_language(client, locale)
    url = form.url(world)
    payload = submission(form, world, name, value)
    before = fingerprint(form.tables)
    response = client.post(url, data=payload)
    label = f"{form.name}: {name}={value if value is not MISSING else '(missing)'!r:.80} ({locale})"
    assert response.status_code in form.refused, f"{label}: {response.status_code}"
    assert fingerprint(form.tables) == before, f"{label}: something was written"
    page = response.get_data(as_text=True)
    if response.status_code == 302:
        page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert_in_language(page, locale, label)
    if message is not None:
        expected = translated(input_app, message[0], message[1], locale)
        assert expected != message[0] % message[1], f"{label}: no {locale} translation"
        assert html.escape(expected, quote=False) in page, f"{label}: {expected!r} not shown"
    elif name not in form.silent:
        assert error_messages(page), f"{label}: refused without saying why"


@pytest.mark.parametrize("form", FORMS, ids=[f.name for f in FORMS])
@settings(parent=PROFILE)
@given(data=st.data())
def test_any_input_gets_an_answer_and_a_refusal_writes_nothing(
    input_app, world, clients, form, data
):
    name = data.draw(st.sampled_from(sorted(form.fields)), label="field")
    value = data.draw(ANY_VALUE, label="value")
    client = clients[form.role]
    if form.prepare:
        form.prepare(client, world)
    in_language(client, "ru")
    url, payload = form.url(world), submission(form, world, name, value)
    before = fingerprint(form.tables)
    response = client.post(url, data=payload)
    label = f"{form.name}: {name}={value!r:.80}"
    assert response.status_code < 500, f"{label}: {response.status_code}"
    if 400 <= response.status_code < 500:
        assert fingerprint(form.tables) == before, f"{label}: refused but written"
    page = response.get_data(as_text=True)
    assert "<script>alert(1)" not in page and "<img src=x" not in page, f"{label}: not escaped"


# --- search forms and addresses -----------------------------------------------------------------

DATES = st.one_of(
    st.sampled_from(["2026-02-30", "0001-01-01", "9999-12-31", "2026-13-01"]), ANY_VALUE
)
SEARCHES = [
    (ANONYMOUS, "/r/", ("region", "q")),
    (ANONYMOUS, "/r/go", ("code",)),
    (ANONYMOUS, "/verify", ("code",)),
    (ANONYMOUS, "/lang/ru", ("next",)),
    ("admin", "/admin/schools", ("region", "q")),
    ("admin", "/school/classes", ("school",)),
    ("admin", "/lessons/coverage", ("school",)),
    ("admin", "/school/poster", ("school",)),
    ("teacher", "/lessons", ("grade", "band", "theme", "q", "lang")),
    ("analyst", "/insights/", ("start", "end", "region", "school", "form")),
    ("school_admin", "/insights/export.csv", ("start", "end", "region", "school", "form")),
    ("counselor", "/insights/surveys/results", ("class", "school", "region")),
    ("school_admin", "/staff/audit", ("before",)),
    ("counselor", "/staff/cases", ("state",)),
    ("counselor", "/staff/inbox", ("mine",)),
    ("counselor", "/staff/overdue", ("who",)),
]


@pytest.mark.parametrize(("role", "path", "names"), SEARCHES, ids=[p for _r, p, _n in SEARCHES])
@settings(parent=PROFILE, max_examples=15)
@given(data=st.data())
def test_search_and_filter_forms_answer_any_query_without_an_error(
    world, clients, role, path, names, data
):
    query = {}
    for name in data.draw(st.lists(st.sampled_from(names), min_size=1, unique=True)):
        value = data.draw(DATES if name in ("start", "end") else ANY_VALUE, label=name)
        if value is not MISSING:
            query[name] = value
    response = clients[role].get(path, query_string=query)
    assert response.status_code < 500, f"{path} {query!r}: {response.status_code}"


# The bounds of every date the app reads (issue 13, finding 7): the first and last days Python
# knows, a year of five digits, a negative number and nothing.
DATE_BOUNDS = ["0001-01-01", "9999-12-31", "10000-01-01", "-1", ""]
PERIOD_PAGES = ["/insights/", "/insights/export.csv", "/insights/report.pdf"]
DATE_FORMS = [
    (form, name) for form in FORMS for name, kind in form.fields.items() if isinstance(kind, Day)
]


@pytest.mark.parametrize("value", DATE_BOUNDS)
@pytest.mark.parametrize("name", ["start", "end"])
@pytest.mark.parametrize("path", PERIOD_PAGES)
def test_a_period_at_the_bounds_of_the_calendar_gets_the_default_and_a_message(
    input_app, world, clients, path, name, value
):
    client = clients["analyst"]
    in_language(client, "ru")
    response = client.get(path, query_string={name: value})
    label = f"{path}?{name}={value!r}"
    assert response.status_code == 200, f"{label}: {response.status_code}"
    if path.endswith(".csv"):  # the export names its period: the default one
        assert "9999" not in response.headers["Content-Disposition"], label
        return
    if path.endswith(".pdf"):
        return
    page = response.get_data(as_text=True)
    warned = re.findall(r'<p class="flash flash-warning"[^>]*>(.*?)</p>', page, re.S)
    if value:
        assert warned and all(CYRILLIC.search(text) for text in warned), f"{label}: {warned}"
    else:
        assert not warned, f"{label}: an empty date is the default, not a mistake"


@pytest.mark.parametrize("value", DATE_BOUNDS)
@pytest.mark.parametrize(("form", "name"), DATE_FORMS, ids=[f"{f.name}-{n}" for f, n in DATE_FORMS])
def test_a_date_field_at_the_bounds_of_the_calendar_is_refused_or_kept_without_an_error(
    input_app, world, clients, form, name, value
):
    client = clients[form.role]
    if form.prepare:
        form.prepare(client, world)
    in_language(client, "kk")
    url, payload = form.url(world), submission(form, world, name, value)  # may make the case
    before = fingerprint(form.tables)
    response = client.post(url, data=payload)
    label = f"{form.name}: {name}={value!r}"
    assert response.status_code < 500, f"{label}: {response.status_code}"
    if value != "9999-12-31":  # not a date, or before any school year of the programme
        assert response.status_code in form.refused, f"{label}: {response.status_code}"
        assert fingerprint(form.tables) == before, f"{label}: something was written"
        assert error_messages(response.get_data(as_text=True)), f"{label}: refused silently"
    elif response.status_code == 302:  # a far due date or plan is kept: its page still shows
        shown = client.get(response.headers["Location"])
        assert shown.status_code == 200, f"{label}: the page after it: {shown.status_code}"


def int_rules():
    """Every rule with an id in its address (a number, or a core.opaque token), with a role
    that may use it."""
    from tests.test_authorization_matrix import variants

    seen = set()
    for rule, expect in variants():
        if ("<int:" in rule or "<opaque:" in rule) and rule not in seen:
            seen.add(rule)
            role = sorted(expect.allow - {ANONYMOUS})[0]
            yield rule, role


@pytest.mark.parametrize(("rule", "role"), list(int_rules()), ids=lambda v: str(v))
def test_forged_ids_in_addresses_are_not_found(input_app, world, clients, rule, role):
    """Huge ids (beyond the database's integers) and ids that do not exist: 404, never a 500."""
    method = next(r for r in input_app.url_map.iter_rules() if r.rule == rule).methods
    tokens = ("zzzzzzz", "0000000", "ABCDEFG", "abc", "a" * 40, opaque(987654), "9876540")
    numbers = (2**31, 2**63, 10**30, 987654, 987654, 987654, 987654)
    for forged, token in zip(numbers, tokens, strict=True):
        url = re.sub(r"<int:\w+>", str(forged), rule)
        url = re.sub(r"<opaque:\w+>", token, url)
        url = re.sub(r"<(?:\w+:)?\w+>", world.globals["lesson"], url)
        before = fingerprint()
        response = clients[role].open(url, method="GET" if "GET" in method else "POST", data={})
        assert response.status_code == 404, f"{url} as {role}: {response.status_code}"
        assert fingerprint() == before


# --- the survey's answers -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def survey_codes(world):
    from insights import surveys
    from insights.models import SurveyWave
    from school.models import Classroom, User

    classroom = db.session.get(Classroom, world.own["classroom"])
    teacher = db.session.get(User, world.own.users[Role.teacher])
    for wave in db.session.scalars(
        select(SurveyWave).where(SurveyWave.classroom_id == classroom.id)
    ):
        surveys.close_wave(wave)
    wave = surveys.open_wave(classroom, WaveKind.follow_up, 60, teacher)
    db.session.commit()
    return [surveys.format_code(code) for code in surveys.unspent_codes(wave)]


@settings(parent=PROFILE, max_examples=30)
@given(data=st.data())
def test_survey_answers_keep_only_allowed_values_whatever_is_posted(
    input_app, world, clients, survey_codes, data
):
    from insights.models import SurveyAnswer
    from insights.questionnaire import questionnaire

    items = questionnaire().items
    names = sorted(items)
    use_code = data.draw(st.booleans(), label="real code") and survey_codes
    code = survey_codes.pop() if use_code else data.draw(ANY_VALUE, label="code")
    answers = {
        name: data.draw(ANY_VALUE, label=name)
        for name in data.draw(st.lists(st.sampled_from(names), max_size=6, unique=True))
    }
    form = {k: v for k, v in ({"code": code} | answers).items() if v is not MISSING}
    client = clients[ANONYMOUS]
    in_language(client, "kk")
    before = fingerprint(("survey_codes", "survey_responses", "survey_answers"))
    response = client.post("/s/answers", data=form)
    assert response.status_code < 500
    if use_code:
        assert response.status_code == 302 and response.headers["Location"].endswith("/s/thanks")
    else:
        assert response.status_code == 200
        assert fingerprint(("survey_codes", "survey_responses", "survey_answers")) == before
        assert_in_language(response.get_data(as_text=True), "kk", f"survey code {code!r}")
    for item, value in db.session.execute(select(SurveyAnswer.item, SurveyAnswer.value)):
        assert value in items[item][0], f"{item}={value} was stored"
    db.session.rollback()


# --- uploads ------------------------------------------------------------------------------------


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload))
    )


def png_declaring(width: int, height: int, raw_bytes: int = 4 << 20) -> bytes:
    """A greyscale PNG that says it is ``width`` x ``height``: its data is a deflate stream of
    zeros that grows about a thousand times when unpacked (a decompression bomb)."""
    packer = zlib.compressobj(9)
    zeros = bytes(1 << 20)
    stream = b"".join(packer.compress(zeros) for _ in range(raw_bytes >> 20)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", stream)
        + png_chunk(b"IEND", b"")
    )


def gif_declaring(width: int, height: int) -> bytes:
    return (
        b"GIF89a"
        + struct.pack("<HH", width, height)
        + b"\x00\x00\x00,\x00\x00\x00\x00"
        + struct.pack("<HH", width, height)
        + b"\x00\x02\x02D\x01\x00;"
    )


NOT_ALLOWED = (
    "This file cannot be added. You can add photos and screenshots (JPEG, PNG, WebP, GIF) or PDF "
    "files."
)
TOO_MANY_PIXELS = "This picture is too large. Please send a smaller photo or a screenshot."
EMPTY = "One of the files is empty."


def stored_files(app) -> int:
    root = os.path.join(app.instance_path, "uploads")
    return sum(len(files) for _d, _s, files in os.walk(root))


def send_file(client, content: bytes, name: str, claimed: str):
    return client.post(
        "/r/conversation",
        data={"body": "", "files": [(io.BytesIO(content), name, claimed)]},
        content_type="multipart/form-data",
    )


def truncated_jpeg() -> bytes:
    data = jpeg_bytes(size=(400, 300))
    return data[: len(data) // 2]


def png_with_broken_data() -> bytes:
    data = bytearray(png_bytes(size=(200, 150)))
    start = data.index(b"IDAT") + 8
    data[start : start + 40] = bytes(range(40))  # the stream no longer inflates
    return bytes(data)


BAD_FILES = {
    "a program called photo.jpg": (b"MZ\x90\x00\x03" + bytes(200), "photo.jpg", "image/jpeg"),
    "a web page called scan.png": (b"<html><script>alert(1)</script>", "scan.png", "image/png"),
    "an SVG with a script": (
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "drawing.svg",
        "image/svg+xml",
    ),
    "a zip called photo.gif": (b"PK\x03\x04" + bytes(100), "photo.gif", "image/gif"),
    "a PNG bomb of 20000 x 20000": (png_declaring(20000, 20000), "bomb.png", "image/png"),
    "a GIF bomb of 65535 x 65535": (gif_declaring(65535, 65535), "bomb.gif", "image/gif"),
    "a PNG of 9000 x 8000 (over the pixel limit)": (
        png_declaring(9000, 8000),
        "big.png",
        "image/png",
    ),
    "a truncated JPEG": (truncated_jpeg(), "photo.jpg", "image/jpeg"),
    "a PNG with broken data": (png_with_broken_data(), "photo.png", "image/png"),
}


@pytest.mark.parametrize("what", sorted(BAD_FILES))
@pytest.mark.parametrize("locale", LOCALES)
def test_faked_bomb_and_corrupt_files_are_refused_in_the_readers_language(
    input_app, world, clients, what, locale
):
    content, name, claimed = BAD_FILES[what]
    client = clients[ANONYMOUS]
    open_conversation(client, world)
    in_language(client, locale)
    before, files_before = fingerprint(REPORT_TABLES), stored_files(input_app)
    response = send_file(client, content, name, claimed)
    assert response.status_code == 400, what
    page = response.get_data(as_text=True)
    message = TOO_MANY_PIXELS if "pixel limit" in what else NOT_ALLOWED
    expected = translated(input_app, message, {}, locale)
    assert expected != message and html.escape(expected, quote=False) in page, what
    assert_in_language(page, locale, what)
    assert fingerprint(REPORT_TABLES) == before and stored_files(input_app) == files_before


def sample_images() -> dict[str, bytes]:
    out = {"jpeg": jpeg_bytes(size=(60, 40)), "png": png_bytes(size=(60, 40))}
    for fmt in ("GIF", "WEBP"):
        buffer = io.BytesIO()
        Image.new("RGB", (60, 40), (10, 200, 90)).save(buffer, fmt)
        out[fmt.lower()] = buffer.getvalue()
    return out


SAMPLES = sample_images()


@settings(parent=PROFILE, max_examples=40)
@given(data=st.data())
def test_a_damaged_picture_is_cleaned_or_refused_never_an_error(input_app, world, clients, data):
    kind = data.draw(st.sampled_from(sorted(SAMPLES)), label="format")
    content = bytearray(SAMPLES[kind])
    damage = data.draw(st.sampled_from(["flip", "cut", "insert"]), label="damage")
    at = data.draw(st.integers(0, len(content) - 1), label="at")
    if damage == "flip":
        content[at] ^= data.draw(st.integers(1, 255), label="bits")
    elif damage == "cut":
        del content[at:]
    else:
        content[at:at] = data.draw(st.binary(min_size=1, max_size=64), label="bytes")
    client = clients[ANONYMOUS]
    open_conversation(client, world)
    in_language(client, "ru")
    before, files_before = fingerprint(REPORT_TABLES), stored_files(input_app)
    response = send_file(client, bytes(content), f"photo.{kind}", f"image/{kind}")
    assert response.status_code in (303, 400), f"{kind} {damage} at {at}: {response.status_code}"
    if response.status_code == 400:
        page = response.get_data(as_text=True)
        assert_in_language(page, "ru", f"{kind} {damage}")
        said = {translated(input_app, m, {}, "ru") for m in (NOT_ALLOWED, TOO_MANY_PIXELS, EMPTY)}
        assert said & set(error_messages(page)), f"{kind} {damage}: {error_messages(page)}"
        assert fingerprint(REPORT_TABLES) == before and stored_files(input_app) == files_before


NUL_CASES = [
    (form, name) for form in FORMS for name in sorted(form.fields) if form.name != "lesson delivery"
] + [(None, f"{path}?{name}") for _role, path, names in SEARCHES for name in names]


@pytest.mark.parametrize(
    ("form", "name"),
    NUL_CASES,
    ids=[f"{form.name if form else 'search'}-{name}" for form, name in NUL_CASES],
)
def test_a_nul_character_anywhere_gets_an_answer_not_an_error(
    input_app, world, clients, form, name
):
    """PostgreSQL refuses NUL in text: every field and search must stop it before the database."""
    if form is None:
        path, param = name.split("?")
        role = next(r for r, p, _n in SEARCHES if p == path)
        query = {param: "a\x00b"}
        if path == "/r/" and param == "q":
            query["region"] = world.own["region"]  # the finder searches within a region
        response = clients[role].get(path, query_string=query)
        assert response.status_code < 500, name
        return
    client = clients[form.role]
    if form.prepare:
        form.prepare(client, world)
    url, payload = form.url(world), submission(form, world, name, "a\x00b")
    before = fingerprint(form.tables)
    response = client.post(url, data=payload)
    assert response.status_code < 500, f"{form.name}: {name}"
    if response.status_code >= 400:
        assert fingerprint(form.tables) == before


def text_rules():
    """Every rule with a text in its address (a slug, a code), with a role that may use it."""
    from tests.test_authorization_matrix import variants

    seen = set()
    for rule, expect in variants():
        if re.search(r"<(?!int:)", rule) and rule not in seen:
            seen.add(rule)
            yield rule, sorted(expect.allow)[0]


@pytest.mark.parametrize(("rule", "role"), list(text_rules()), ids=lambda v: str(v))
def test_a_nul_character_in_an_address_gets_an_answer_not_an_error(world, clients, rule, role):
    url = re.sub(r"<int:\w+>", str(world.own["classroom"]), rule)
    url = re.sub(r"<(?:\w+:)?\w+>", "a%00b", url)
    response = clients[role].get(url)
    assert response.status_code < 500, f"{url} as {role}: {response.status_code}"
