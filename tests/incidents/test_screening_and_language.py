"""Screening names sexual violence and cyberbullying (forms, rules, three languages); the case
says which language the child wrote in (issue 20)."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from core.opaque import opaque
from extensions import db
from incidents.cases import state_machine
from incidents.cases.enums import Screening
from incidents.intake.models import Report, ViolenceForm
from school.models import BodyKind, utcnow
from tests.incidents.case_factories import staffed_school, triaged_case
from tests.incidents.factories import form_data

pytestmark = pytest.mark.usefixtures("english")


@pytest.mark.parametrize("value", ["sexual_violence", "cyberbullying"])
def test_the_triage_form_offers_and_keeps_the_new_screening_results(client, login, value):
    staff = staffed_school()
    case = triaged_case(staff)  # a case to see; triage a new one through the page
    from tests.incidents.case_factories import new_case

    fresh = new_case(staff)
    login(staff.counselor)
    page = client.get(f"/staff/cases/{opaque(fresh.id)}").get_data(as_text=True)
    assert f'value="{value}"' in page
    response = client.post(
        f"/staff/cases/{opaque(fresh.id)}/triage",
        data={
            "screening": value,
            "risk": "high",
            "counselor_id": staff.counselor.id,
            "version": fresh.version,
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.session.refresh(fresh)
    assert fresh.screening == Screening(value)
    assert case.screening == Screening.bullying


def test_screened_as_sexual_violence_requires_police_and_guardianship(app):
    staff = staffed_school()
    case = triaged_case(
        staff, screening=Screening.sexual_violence, forms=[ViolenceForm.psychological]
    )
    assert {r.body_kind for r in case.referrals if r.required} == {
        BodyKind.police,
        BodyKind.guardianship,
    }


@pytest.mark.parametrize("screening", [Screening.sexual_violence, Screening.cyberbullying])
def test_the_new_results_are_named_in_every_language(app, screening):
    titles = set()
    for locale in ("kk", "ru", "en"):
        with app.test_request_context(), force_locale(locale):
            titles.add(str(screening.title))
    assert len(titles) == 3


def test_the_report_keeps_the_language_and_the_case_says_it(app, client, login):
    staff = staffed_school()
    child = app.test_client()
    child.get("/lang/ru")
    child.post(f"/r/{staff.school.code}", data=form_data(token="l" * 32))
    report = db.session.scalar(db.select(Report).where(Report.submission_token == "l" * 32))
    assert report.locale == "ru"
    case = state_machine.open_case(report, by=staff.counselor, now=utcnow())
    db.session.commit()
    login(staff.counselor)
    page = client.get(f"/staff/cases/{opaque(case.id)}").get_data(as_text=True)
    assert "Language the student wrote in" in page
    fact = page.split("Language the student wrote in", 1)[1][:80]
    assert "Russian" in fact
