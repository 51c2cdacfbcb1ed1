"""Issue 16's "Done when", walked end to end through the pages: a report naming a teacher, sent
at night in Kazakh, reaches the regional desk and not the school; a desk officer answers the
child, opens the case and refers it (letter PDF); the unanswered referral returns as overdue to
the desk (and, as the desk holds it alone, not to the school, whose staff it is about); a
critical report the school does not take up escalates along the chain to the desk with every
step's time; an unanswered referral of the school's own case returns to the school and the desk;
the KPI page splits the time to first human response by working hours and night.

Time: "at night" is the real moment of sending, outside the school's working hours (set around
it); the chain is run at given moments (``escalation.run(now)``) as in ``test_escalation``."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from pypdf import PdfReader
from sqlalchemy import select, update

from core.mail import OutgoingMail
from core.model_types import utcnow
from core.opaque import opaque
from extensions import db
from incidents.cases import overdue
from incidents.cases.models import Case, Referral
from incidents.desk import escalation
from incidents.desk.escalation_models import SchoolContact, SchoolHours
from incidents.desk.hours import region_zone
from incidents.intake.models import Holder, Priority, Report
from school.models import BodyKind, Role
from tests import factories
from tests.incidents.case_factories import body
from tests.incidents.factories import form_data

STORY = "Мұғалім мені сынып алдында ұрды, қорқамын 6161"
DANGER = "Қазір мені қорқытып тұр, көмектесіңдер 4242"
ANSWER = "Сәлем! Біз өңірлік қызметтенбіз, сені тыңдаймыз 9090"
CODE = re.compile(r'class="secret-code"><code>([^<]+)</code>')


def client_of(app, login, user, language="en"):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    login(user, using=client)
    return client


def child_sends(app, school, token, **fields) -> tuple[Report, str, str]:
    child = app.test_client()  # no Accept-Language: the report pages speak Kazakh first
    page = child.get(f"/r/{school.code}").get_data(as_text=True)
    response = child.post(f"/r/{school.code}", data=form_data(token=token, **fields))
    assert response.status_code == 200
    [code] = CODE.findall(response.get_data(as_text=True))
    made = db.session.scalars(select(Report).order_by(Report.id.desc())).first()
    return made, code, page


def hours_around_now(school, at_work: bool) -> None:
    """Working hours every day that hold the present moment, or an hour half a day away."""
    local = utcnow().astimezone(region_zone(school.region))
    minute = local.hour * 60 + local.minute
    if at_work:
        opens, closes = 0, 1440
    else:
        opens = (minute + 720) % 1440 // 60 * 60
        opens = min(opens, 1380)
        closes = opens + 60
    db.session.add(
        SchoolHours(
            school_id=school.id, weekdays="1,2,3,4,5,6,7", opens_minute=opens, closes_minute=closes
        )
    )
    db.session.commit()


def mails_to(user) -> list[OutgoingMail]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutgoingMail).where(OutgoingMail.to == user.email)))


def test_done_when(app, login):
    region = factories.region("KZ-71")
    night_school = factories.school(region_code="KZ-71")
    day_school = factories.school(region_code="KZ-71")
    counselor = factories.user(Role.counselor, night_school, locale="kk")
    director = factories.user(Role.school_admin, night_school)
    day_counselor = factories.user(Role.counselor, day_school, locale="kk")
    day_director = factories.user(Role.school_admin, day_school)
    officer = factories.user(Role.desk_officer, region_=region, locale="kk")
    police = body(BodyKind.police, night_school, "Ювеналдық полиция", "Ювенальная полиция")
    hours_around_now(night_school, at_work=False)
    hours_around_now(day_school, at_work=True)

    # 1. At night, in Kazakh, a child reports a teacher: the desk holds it, not the school.
    made, code, form_page = child_sends(
        app,
        night_school,
        "1" * 32,
        perpetrator="school_staff",
        forms=["adult_at_school"],
        description=STORY,
    )
    assert 'lang="kk"' in form_page and "өңірлік" in form_page
    assert made.routing == Holder.desk and made.arrived_in_hours is False
    school_side = client_of(app, login, counselor)
    director_side = client_of(app, login, director)
    for address in ("/staff/inbox", "/staff/cases"):
        assert made.label not in school_side.get(address).get_data(as_text=True), address
    assert school_side.get(f"/staff/reports/{opaque(made.id)}").status_code == 404
    assert mails_to(counselor) == [] and mails_to(director) == []

    # 2. The desk officer answers the child, who reads it with the receipt code.
    desk = client_of(app, login, officer, "kk")
    assert made.label in desk.get("/desk/inbox").get_data(as_text=True)
    report_url = f"/desk/reports/{opaque(made.id)}"
    assert desk.post(report_url + "/messages", data={"body": ANSWER}).status_code == 302
    child = app.test_client()
    assert child.post("/r/check", data={"code": code}).status_code == 303
    assert ANSWER in child.get("/r/conversation").get_data(as_text=True)

    # 3. The desk opens the case and refers it to the police: the letter is made.
    assert desk.post(report_url + "/open").status_code == 302
    case = db.session.scalar(select(Case).where(Case.report_id == made.id))
    response = desk.post(f"/staff/cases/{opaque(case.id)}/referrals", data={"body_id": police.id})
    assert response.status_code == 302
    referral = db.session.scalar(select(Referral).where(Referral.case_id == case.id))
    letter_url = f"/staff/referrals/{opaque(referral.id)}"
    assert desk.post(letter_url + "/send", data={"reference_number": "Д-16"}).status_code == 302
    pdf = desk.get(letter_url + "/letter.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    letter = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Д-16" in letter and case.label in letter
    assert code not in letter and code.replace("-", "") not in letter.replace(" ", "")

    # The school still sees nothing of it: inbox, cases, audit log.
    for address in ("/staff/inbox", "/staff/cases", "/staff/overdue"):
        assert case.label not in school_side.get(address).get_data(as_text=True), address
    audit_page = director_side.get("/staff/audit").get_data(as_text=True)
    assert made.label not in audit_page and case.label not in audit_page

    # 4. The referral is left unanswered: it returns to the desk as overdue, not to the school.
    late = utcnow() - timedelta(hours=1)
    db.session.execute(
        update(Referral).where(Referral.id == referral.id).values(answer_due_at=late)
    )
    db.session.commit()
    overdue.notify_overdue(utcnow())
    assert any(case.label in m.body for m in mails_to(officer))
    assert all(case.label not in m.body for m in mails_to(director) + mails_to(counselor))
    assert case.label in desk.get("/desk/inbox").get_data(as_text=True)
    assert case.label not in director_side.get("/staff/overdue").get_data(as_text=True)

    # 5. A critical report in working hours that nobody at the school takes up: the chain.
    for position, (who, window) in enumerate([(day_counselor, 10), (day_director, 15)], 1):
        db.session.add(
            SchoolContact(
                school_id=day_school.id,
                position=position,
                user_id=who.id,
                window_minutes=window,
                night=True,
            )
        )
    db.session.commit()
    critical, _code, _page = child_sends(
        app, day_school, "2" * 32, danger_now="y", description=DANGER
    )
    assert critical.priority == Priority.critical and critical.arrived_in_hours is True
    start = utcnow().replace(microsecond=0) - timedelta(hours=2)
    critical.created_at = start
    db.session.commit()
    minute = timedelta(minutes=1)
    for at in (start, start + 5 * minute, start + 10 * minute, start + 25 * minute):
        escalation.run(at)
    db.session.expire_all()
    taken = [(s.step, s.user_id, s.notified_at) for s in escalation.steps_of(critical.id)]
    assert taken == [
        (1, day_counselor.id, start),
        (2, day_director.id, start + 10 * minute),
        (3, None, start + 25 * minute),
    ]
    assert critical.label in desk.get("/desk/inbox").get_data(as_text=True)
    # The desk answers it: its first human response.
    sent = desk.post(f"/desk/reports/{opaque(critical.id)}/messages", data={"body": ANSWER})
    assert sent.status_code == 302

    # The school's psychologist opens the case and refers it; unanswered, it returns as overdue
    # to the school and to the desk.
    school_psych = client_of(app, login, day_counselor)
    assert school_psych.post(f"/staff/reports/{opaque(critical.id)}/open").status_code == 302
    own = db.session.scalar(select(Case).where(Case.report_id == critical.id))
    posted = school_psych.post(
        f"/staff/cases/{opaque(own.id)}/referrals", data={"body_id": police.id}
    )
    assert posted.status_code == 302
    own_referral = db.session.scalar(select(Referral).where(Referral.case_id == own.id))
    own_url = f"/staff/referrals/{opaque(own_referral.id)}/send"
    assert school_psych.post(own_url, data={"reference_number": "М-7"}).status_code == 302
    db.session.execute(
        update(Referral).where(Referral.id == own_referral.id).values(answer_due_at=late)
    )
    db.session.commit()
    overdue.notify_overdue(utcnow())
    for told in (day_director, officer):
        assert any(own.label in m.body for m in mails_to(told)), told.role

    # 6. The statistics: time to first human response by working hours and night.
    analyst = factories.user(Role.admin, locale="en")
    today = utcnow().astimezone(region_zone(region)).date()
    args = f"start={(today - timedelta(days=1)).isoformat()}&end={today.isoformat()}"
    page = client_of(app, login, analyst).get(f"/insights/kpis?{args}").get_data(as_text=True)
    section = page[page.index('id="h-day-night"') :]
    section = section[: section.index("</section>")]
    rows = re.findall(r"<tr>\s*<td>([^<]+)</td>\s*<td class=\"num\">([^<]+)</td>", section)
    assert [(label.strip(), n.strip()) for label, n in rows] == [
        ("Arrived in the school&#39;s working hours", "1"),
        ("Arrived at night or at a weekend", "1"),
    ]
