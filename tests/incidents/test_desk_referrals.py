"""The duty desk refers the case it holds to an authorized body with the counselor's pages and
letters (issue 16): draft, send, letter PDF; the partner sees it; another region's desk, and the
school (which does not hold the report), reach nothing."""

from __future__ import annotations

import io

from pypdf import PdfReader
from sqlalchemy import select

from core.model_types import utcnow
from core.opaque import opaque
from extensions import db
from incidents.cases.enums import ReferralStatus
from incidents.cases.models import Referral
from incidents.desk import services as desk
from incidents.intake.models import Holder, Perpetrator
from school.models import BodyKind, Role
from tests import factories
from tests.incidents.case_factories import body
from tests.incidents.factories import report


def _client(app, login, user):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(user, using=client)
    return client


def test_the_desk_refers_the_case_it_holds_with_the_same_pages_and_letter(app, login):
    school = factories.school(region_code="KZ-71")
    counselor = factories.user(Role.counselor, school)
    officer = factories.user(Role.desk_officer, region_=factories.region("KZ-71"), locale="en")
    stranger = factories.user(Role.desk_officer, region_=factories.region("KZ-75"))
    police = body(BodyKind.police, school, "Ювеналдық полиция", "Ювенальная полиция")
    made, _code = report(school, perpetrator=Perpetrator.school_staff, description="Мұғалім 77")
    assert made.routing == Holder.desk
    case = desk.open_case(made, by=officer, now=utcnow())
    db.session.commit()

    client = _client(app, login, officer)
    page = client.get(f"/desk/reports/{opaque(made.id)}").get_data(as_text=True)
    assert 'id="referrals"' in page and f'<option value="{police.id}"' in page
    response = client.post(f"/staff/cases/{opaque(case.id)}/referrals", data={"body_id": police.id})
    assert response.status_code == 302
    referral = db.session.scalar(select(Referral).where(Referral.case_id == case.id))
    assert referral.created_by_id == officer.id and referral.body_id == police.id
    url = f"/staff/referrals/{opaque(referral.id)}"
    assert client.get(url).status_code == 200
    response = client.post(url + "/send", data={"reference_number": "№ Д-5"})
    assert response.status_code == 302 and "/desk/reports/" in response.headers["Location"]
    db.session.refresh(referral)
    assert referral.status == ReferralStatus.sent and referral.reference_number == "Д-5"
    assert referral.sent_by_id == officer.id and referral.answer_due_at is not None
    pdf = client.get(url + "/letter.pdf")
    assert pdf.status_code == 200
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Д-5" in text

    # The partner of the body sees it, as any referral.
    partner = factories.user(Role.partner, body_=police, locale="en")
    theirs = _client(app, login, partner)
    assert case.label in theirs.get("/partner/referrals").get_data(as_text=True)

    # Another region's desk and the school's counselor reach nothing, and change nothing.
    for user in (stranger, counselor):
        other = _client(app, login, user)
        assert other.get(url).status_code == 404
        assert other.post(url + "/send", data={"reference_number": "1"}).status_code == 404
        assert (
            other.post(
                f"/staff/cases/{opaque(case.id)}/referrals", data={"body_id": police.id}
            ).status_code
            == 404
        )
    assert db.session.scalar(select(db.func.count()).select_from(Referral)) == 1
