"""The teacher's list of own reports (issue 20): what was reported, where it is now and when the
school last answered; never another teacher's report; and its statements do not grow with the
number of reports."""

from __future__ import annotations

from sqlalchemy import event

from core.model_types import utcnow
from extensions import db
from incidents.cases import state_machine
from incidents.cases.enums import RiskLevel, Screening
from incidents.intake.models import Perpetrator, Place, ViolenceForm, WhenHappened
from incidents.teacher.named_report import file_teacher_report
from school.models import Role
from tests import factories


def filed(teacher, form=ViolenceForm.cyberbullying, place=Place.online):
    report = file_teacher_report(
        teacher,
        forms=[form],
        perpetrator=Perpetrator.students,
        place=place,
        happened=WhenHappened.today,
        classroom=None,
        is_danger_now=False,
        description="Чатта мазақтады.",
    )
    db.session.commit()
    return report


def triaged(report, counselor):
    case = state_machine.open_case(report, by=counselor, now=utcnow())
    state_machine.triage(
        case,
        by=counselor,
        screening=Screening.bullying,
        risk=RiskLevel.medium,
        counselor=counselor,
        injury=False,
        now=utcnow(),
    )
    db.session.commit()


def statements(app, client, url: str) -> tuple[int, str]:
    seen = []

    def count(*_args) -> None:
        seen.append(1)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        page = client.get(url).get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen), page


def test_the_list_says_what_where_and_when_and_stays_flat(app, client, login):
    school = factories.school()
    teacher = factories.user(Role.teacher, school, locale="en")
    colleague = factories.user(Role.teacher, school, locale="en")
    counselor = factories.user(Role.counselor, school)
    first = filed(teacher)
    filed(colleague, form=ViolenceForm.sexual, place=Place.toilet)
    login(teacher)
    client.get("/lang/en")

    before, page = statements(app, client, "/staff/my-reports")
    assert "Cyberbullying" in page and "Online" in page
    assert "No answer yet" in page
    assert "Sexual violence" not in page  # the colleague's report is theirs

    triaged(first, counselor)
    for _ in range(4):
        triaged(filed(teacher, form=ViolenceForm.physical), counselor)
    after, page = statements(app, client, "/staff/my-reports")
    assert "No answer yet" not in page and "Physical violence" in page
    assert "The school psychologist is working on it" in page
    assert after == before, (before, after)
