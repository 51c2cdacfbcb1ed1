"""Planning and logging lessons: only for the classes a teacher teaches; bad input changes nothing;
progress and coverage are right."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from core.audit import AuditEntry
from core.clock import local_today
from curriculum import services
from curriculum.models import Delivery, Lesson, LessonPlan
from extensions import db
from school.models import Classroom, Role
from tests import factories
from tests.curriculum.factories import deliver, lesson


@pytest.fixture
def setting(app, content):
    school = factories.school()
    # English interface: the messages below are checked by their msgid.
    teacher = factories.user(Role.teacher, school, locale="en")
    colleague = factories.user(Role.teacher, school, locale="en")
    mine = factories.classroom(school, 6, "А", language="ru", teachers=[teacher])
    homeroom = factories.classroom(school, 7, "Б", language="kk", homeroom_teacher=teacher)
    theirs = factories.classroom(school, 6, "В", language="ru", teachers=[colleague])
    other_school = factories.school()
    elsewhere = factories.classroom(other_school, 6, "А", teachers=[])
    return dict(
        school=school,
        teacher=teacher,
        colleague=colleague,
        mine=mine,
        homeroom=homeroom,
        theirs=theirs,
        elsewhere=elsewhere,
    )


def delivery_data(**changes) -> dict:
    data = {
        "delivered_on": date(2026, 10, 5).isoformat(),
        "language": "ru",
        "minutes_used": "40",
        "students_present": "23",
        "steps_done": ["0", "1"],
        "reflection": "",
    }
    data.update(changes)
    return data


def deliveries() -> int:
    return db.session.scalar(select(func.count(Delivery.id)))


def test_teacher_logs_for_a_class_they_teach_and_their_homeroom(client, login, setting):
    login(setting["teacher"])
    chosen = lesson("5-9", 3)
    for classroom in (setting["mine"], setting["homeroom"]):
        url = f"/lessons/classes/{classroom.id}/deliver/{chosen.slug}"
        assert client.get(url).status_code == 200
        assert client.post(url, data=delivery_data()).status_code == 302
    assert deliveries() == 2
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "lesson.deliver").limit(1)
    )
    assert chosen.slug in entry.detail and "reflection" not in entry.detail


def test_teacher_cannot_log_for_a_colleagues_class(client, login, setting):
    login(setting["teacher"])
    chosen = lesson("5-9", 1)
    url = f"/lessons/classes/{setting['theirs'].id}/deliver/{chosen.slug}"
    assert client.get(url).status_code == 403
    assert client.post(url, data=delivery_data()).status_code == 403
    plan = client.post(
        f"/lessons/classes/{setting['theirs'].id}/plan",
        data={"lesson": chosen.slug, "planned_for": "2026-11-01"},
    )
    assert plan.status_code == 403
    assert client.get(f"/lessons/classes/{setting['theirs'].id}").status_code == 403
    assert deliveries() == 0


def test_teacher_cannot_reach_another_schools_class(client, login, setting):
    login(setting["teacher"])
    chosen = lesson("5-9", 1)
    url = f"/lessons/classes/{setting['elsewhere'].id}/deliver/{chosen.slug}"
    assert client.get(url).status_code == 404
    assert client.post(url, data=delivery_data()).status_code == 404
    assert client.get(f"/lessons/classes/{setting['elsewhere'].id}").status_code == 404
    assert deliveries() == 0


def test_a_lesson_of_another_band_cannot_be_logged(client, login, setting):
    login(setting["teacher"])
    young = lesson("1-4", 1)
    url = f"/lessons/classes/{setting['mine'].id}/deliver/{young.slug}"
    assert client.post(url, data=delivery_data()).status_code == 404
    with pytest.raises(services.DeliveryRefused):
        deliver(setting["mine"], young, setting["teacher"])
    assert deliveries() == 0


def test_bad_input_is_explained_and_nothing_is_written(client, login, setting):
    login(setting["teacher"])
    chosen = lesson("5-9", 1)
    url = f"/lessons/classes/{setting['mine'].id}/deliver/{chosen.slug}"
    tomorrow = local_today() + timedelta(days=1)
    response = client.post(
        url,
        data=delivery_data(
            minutes_used="0",
            students_present="lots",
            delivered_on=tomorrow.isoformat(),
            reflection="Дети активно обсуждали",
        ),
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Enter a number from 1 to 240." in html
    assert "Please enter a whole number." in html
    assert "A lesson cannot be logged before it has taken place." in html
    assert "Дети активно обсуждали" in html  # what was typed stays on the page
    assert deliveries() == 0


def test_zero_students_present_is_an_answer_but_a_missing_one_is_not(client, login, setting):
    login(setting["teacher"])
    chosen = lesson("5-9", 1)
    url = f"/lessons/classes/{setting['mine'].id}/deliver/{chosen.slug}"
    missing = client.post(url, data=delivery_data(students_present=""))
    assert "Please fill in this field." in missing.get_data(as_text=True)
    assert client.post(url, data=delivery_data(students_present="0")).status_code == 302
    assert deliveries() == 1


def test_interface_messages_follow_the_language(client, login, setting):
    login(setting["teacher"])
    client.get("/lang/ru")
    chosen = lesson("5-9", 1)
    url = f"/lessons/classes/{setting['mine'].id}/deliver/{chosen.slug}"
    html = client.post(url, data=delivery_data(minutes_used="0")).get_data(as_text=True)
    assert "Введите число от 1 до 240." in html
    assert "Отметить проведённый урок" in html


def test_plan_a_lesson_move_it_and_remove_it(client, login, setting):
    login(setting["teacher"])
    chosen = lesson("5-9", 4)
    url = f"/lessons/classes/{setting['mine'].id}/plan"
    assert (
        client.post(url, data={"lesson": chosen.slug, "planned_for": "2026-11-02"}).status_code
        == 302
    )
    assert (
        client.post(url, data={"lesson": chosen.slug, "planned_for": "2026-11-09"}).status_code
        == 302
    )
    plans = db.session.scalars(select(LessonPlan)).all()
    assert [(p.lesson_id, p.planned_for) for p in plans] == [(chosen.id, date(2026, 11, 9))]
    page = client.get(f"/lessons/classes/{setting['mine'].id}").get_data(as_text=True)
    assert "2026" in page and f"/plans/{plans[0].id}/delete" in page

    bad = client.post(url, data={"lesson": chosen.slug, "planned_for": "soon"})
    assert bad.status_code == 400 and "Please enter a date." in bad.get_data(as_text=True)

    removed = client.post(f"/lessons/classes/{setting['mine'].id}/plans/{plans[0].id}/delete")
    assert removed.status_code == 302
    assert db.session.scalar(select(func.count(LessonPlan.id))) == 0


def test_only_the_teacher_who_logged_a_lesson_deletes_it(client, login, setting):
    shared = factories.classroom(
        setting["school"], 8, "А", teachers=[setting["teacher"], setting["colleague"]]
    )
    theirs = deliver(shared, lesson("5-9", 1), setting["colleague"])
    own = deliver(shared, lesson("5-9", 2), setting["teacher"])
    login(setting["teacher"])
    url = f"/lessons/classes/{shared.id}/deliveries/{{}}/delete"
    assert client.post(url.format(theirs.id)).status_code == 403
    assert client.post(url.format(own.id)).status_code == 302
    assert db.session.scalars(select(Delivery.id)).all() == [theirs.id]


def test_progress_counts_distinct_band_lessons_minutes_and_steps(app, setting):
    teacher, mine = setting["teacher"], setting["mine"]
    first, second = lesson("5-9", 1), lesson("5-9", 2)
    deliver(mine, first, teacher, minutes=first.duration, on=date(2026, 9, 10))
    deliver(mine, first, teacher, minutes=30, steps=[0], on=date(2026, 9, 17))
    deliver(mine, second, teacher, minutes=35, steps=[0, 1], on=date(2026, 9, 24))
    band_lessons = db.session.scalar(
        select(func.count(Lesson.id)).where(Lesson.band == "5-9", Lesson.retired.is_(False))
    )

    (progress,) = services.class_progress(Classroom.id == mine.id, "ru")
    assert progress.lessons == band_lessons
    assert progress.delivered == 2  # the first lesson given twice counts once
    assert progress.deliveries == 3
    assert progress.minutes_used == first.duration + 30 + 35
    assert progress.minutes_designed == 2 * first.duration + second.duration
    assert progress.steps_done == first.step_count + 1 + 2
    assert progress.steps_total == 2 * first.step_count + second.step_count
    assert progress.last_on == date(2026, 9, 24)
    assert progress.last_title == second.text("ru").title
    assert progress.share == pytest.approx(2 / band_lessons)


def test_school_coverage_sums_its_own_classes_only(app, setting):
    teacher = setting["teacher"]
    deliver(setting["mine"], lesson("5-9", 1), teacher)
    deliver(setting["homeroom"], lesson("5-9", 1), teacher)
    deliver(setting["homeroom"], lesson("5-9", 2), teacher, minutes=20)
    other_teacher = factories.user(Role.teacher, setting["elsewhere"].school)
    setting["elsewhere"].teachers.append(other_teacher)
    deliver(setting["elsewhere"], lesson("5-9", 3), other_teacher)

    summary = services.coverage(Classroom.school_id == setting["school"].id)
    band_lessons = db.session.scalar(
        select(func.count(Lesson.id)).where(Lesson.band == "5-9", Lesson.retired.is_(False))
    )
    assert summary.classes == 3
    assert summary.classes_started == 2
    assert summary.delivered == 3
    assert summary.deliveries == 3
    assert summary.lessons == 3 * band_lessons
    assert summary.minutes_used == lesson("5-9", 1).duration * 2 + 20


def test_school_admin_sees_coverage_of_every_class_of_their_school(client, login, setting):
    deliver(setting["theirs"], lesson("5-9", 1), setting["colleague"])
    director = factories.user(Role.school_admin, setting["school"], locale="en")
    login(director)
    html = client.get("/lessons/coverage").get_data(as_text=True)
    for label in ("6А", "7Б", "6В"):
        assert label in html
    assert "1 of 3" in html  # classes with lessons
    assert client.get(f"/lessons/classes/{setting['theirs'].id}").status_code == 200
    assert client.get(f"/lessons/classes/{setting['elsewhere'].id}").status_code == 404
    # Reading a class is not teaching it: no logging for the director.
    url = f"/lessons/classes/{setting['theirs'].id}/deliver/{lesson('5-9', 1).slug}"
    assert client.get(url).status_code == 403


def test_platform_admin_picks_the_school(client, login, setting):
    login(factories.user(Role.admin))
    assert client.get("/lessons/coverage").status_code == 404
    html = client.get(f"/lessons/coverage?school={setting['school'].id}").get_data(as_text=True)
    assert "6А" in html and setting["school"].name in html


@pytest.mark.parametrize("role", [Role.teacher, Role.counselor, Role.partner, Role.analyst])
def test_other_roles_cannot_see_school_coverage(client, login, setting, role):
    school = setting["school"] if role.is_school_role else None
    login(factories.user(role, school))
    assert client.get("/lessons/coverage").status_code == 403


@pytest.mark.parametrize("role", [Role.partner, Role.analyst])
def test_roles_outside_schools_cannot_plan_or_log(client, login, setting, role):
    chosen = lesson("5-9", 1)
    # Another lesson's plan: logging ``chosen`` would fulfil (remove) a plan of its own.
    plan = services.plan_lesson(
        setting["mine"], lesson("5-9", 2), date(2026, 12, 1), setting["teacher"]
    )
    done = deliver(setting["mine"], chosen, setting["teacher"])
    login(factories.user(role))
    mine = f"/lessons/classes/{setting['mine'].id}"
    assert client.get("/lessons/classes").status_code == 403
    assert client.get(mine).status_code == 403
    assert client.post(f"{mine}/deliver/{chosen.slug}", data=delivery_data()).status_code == 403
    assert client.post(f"{mine}/plan", data={"lesson": chosen.slug}).status_code == 403
    assert client.post(f"{mine}/plans/{plan.id}/delete").status_code == 403
    assert client.post(f"{mine}/deliveries/{done.id}/delete").status_code == 403
    assert deliveries() == 1 and db.session.get(LessonPlan, plan.id) is not None


def test_my_classes_lists_only_the_teachers_classes(client, login, setting):
    login(setting["teacher"])
    html = client.get("/lessons/classes").get_data(as_text=True)
    assert "6А" in html and "7Б" in html and "6В" not in html


def test_a_delivered_lesson_leaves_the_plan_of_its_class_only(client, login, setting):
    """Logging a planned lesson fulfils its plan: the class page no longer lists it as planned;
    the same lesson planned for another class stays planned there."""
    login(setting["teacher"])
    chosen, other = lesson("5-9", 4), lesson("5-9", 5)
    for classroom, planned in ((setting["mine"], chosen), (setting["mine"], other)):
        client.post(
            f"/lessons/classes/{classroom.id}/plan",
            data={"lesson": planned.slug, "planned_for": "2026-11-02"},
        )
    client.post(
        f"/lessons/classes/{setting['homeroom'].id}/plan",
        data={"lesson": chosen.slug, "planned_for": "2026-11-03"},
    )
    response = client.post(
        f"/lessons/classes/{setting['mine'].id}/deliver/{chosen.slug}", data=delivery_data()
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    left = db.session.execute(select(LessonPlan.classroom_id, LessonPlan.lesson_id)).all()
    assert sorted(left) == sorted(
        [(setting["mine"].id, other.id), (setting["homeroom"].id, chosen.id)]
    )
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "lesson.deliver")
    ).one()
    assert '"plan_fulfilled": true' in entry.detail
