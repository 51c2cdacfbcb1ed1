"""Ids that count nothing (issue 13, finding 10): the addresses and pages a person sees carry a
keyed permutation of a case's, referral's or report's id, never the id itself."""

from __future__ import annotations

import random
import re

from app import create_app
from core.opaque import LENGTH, opaque, plain
from core.security import ID_MAX
from extensions import db
from incidents.intake.models import Perpetrator, Place, ViolenceForm, WhenHappened
from incidents.teacher.named_report import file_teacher_report
from tests.incidents.case_factories import (  # noqa: F401 - english_messages is a fixture
    case_in_progress,
    english_messages,
    staffed_school,
    triaged_case,
)


def test_every_id_has_one_token_and_back(app):
    ids = [0, 1, 2, 3, 99, 1000, ID_MAX - 1, ID_MAX] + random.Random(7).sample(range(ID_MAX), 2000)
    tokens = [opaque(id_) for id_ in ids]
    assert all(len(token) == LENGTH and re.fullmatch(r"[0-9a-z]+", token) for token in tokens)
    assert len(set(tokens)) == len(ids)
    assert [plain(token) for token in tokens] == ids
    assert plain(tokens[5].upper()) == 1000  # read aloud or typed in capitals: the same
    for wrong in ("", "abc", "zzzzzzz", "0000000o", "i000000", "a" * 40):
        assert plain(wrong) is None or 0 <= plain(wrong) <= ID_MAX
    assert plain("zzzzzzz") is None  # beyond the ids' range


def test_neighbouring_ids_say_nothing_of_their_order_or_distance(app):
    tokens = [opaque(id_) for id_ in range(1, 501)]
    ranks = sorted(range(500), key=lambda i: tokens[i])
    # Sorted tokens do not give the ids in order: about half of the neighbours swap.
    ascending = sum(ranks[i] < ranks[i + 1] for i in range(499))
    assert 180 < ascending < 320
    # No token shares a prefix with the next id's token more often than chance would.
    shared = sum(tokens[i][:2] == tokens[i + 1][:2] for i in range(499))
    assert shared < 10


def test_another_secret_key_gives_other_tokens(app, tmp_path):
    mine = [opaque(id_) for id_ in range(1, 50)]
    other_app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "another key",
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "INSTANCE_PATH": str(tmp_path),
        }
    )
    with other_app.app_context():
        theirs = [opaque(id_) for id_ in range(1, 50)]
    assert not set(mine) & set(theirs)


def test_a_counselor_sees_no_running_number_of_the_platforms_cases(client, login):
    """Before: /staff/cases/41 today and /staff/cases/50 next week told the counselor that eight
    reports went to other schools meanwhile."""
    staff = staffed_school()
    case = triaged_case(staff)
    login(staff.counselor)
    html = client.get("/staff/cases").get_data(as_text=True)
    links = re.findall(r'href="/staff/cases/([^"/]+)"', html)
    assert links == [opaque(case.id)]
    page = client.get(f"/staff/cases/{links[0]}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert not re.search(rf"/staff/cases/{case.id}\b", body)
    assert client.get(f"/staff/cases/{case.id}").status_code == 404  # the plain id opens nothing


def test_a_teacher_sees_a_token_for_their_report_not_its_number(client, login):
    staff = staffed_school()
    report = file_teacher_report(
        staff.teacher,
        forms=[ViolenceForm.physical],
        perpetrator=Perpetrator.students,
        place=Place.corridor,
        happened=WhenHappened.today,
        classroom=None,
        is_danger_now=False,
        description="Saw pushing in the corridor.",
    )
    db.session.commit()
    login(staff.teacher)
    html = client.get("/staff/my-reports").get_data(as_text=True)
    assert f"<td>{opaque(report.id)}</td>" in html
    assert f"<td>{report.id}</td>" not in html


def test_the_case_page_names_its_actions_by_token_not_by_number(client, login):
    """Found by the second review: the form of each open action carried ``id="note-<Action.id>"``,
    the platform's running number of actions, in the page's source."""
    staff = staffed_school()
    case = case_in_progress(staff)
    action = next(a for a in case.actions if not a.is_done and a.kind.value != "referral")
    login(staff.counselor)
    body = client.get(f"/staff/cases/{opaque(case.id)}").get_data(as_text=True)
    assert f"note-{opaque(action.id)}" in body
    assert not re.search(rf'"note-{action.id}"', body)


def test_the_referral_letters_file_name_carries_no_running_number(client, login):
    """Found by the second review: the letter's PDF was named ``referral-<label>-<Referral.id>``,
    a running number of every school's referrals, seen by the counselor and the partner."""
    staff = staffed_school()
    case = case_in_progress(staff, forms=[ViolenceForm.sexual])
    referral = next(r for r in case.referrals if r.body is not None)
    login(staff.counselor)
    response = client.get(f"/staff/referrals/{opaque(referral.id)}/letter.pdf")
    assert response.status_code == 200
    name = response.headers["Content-Disposition"]
    assert opaque(referral.id) in name
    assert not re.search(rf"-{referral.id}\.pdf", name)
