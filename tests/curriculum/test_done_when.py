"""The issue's "done when": a teacher finds a grade-6 lesson in Russian, prints its handout, gives it
and logs it; the class's and the school's coverage update."""

from __future__ import annotations

from sqlalchemy import func, select

from core.clock import local_today
from curriculum import services
from curriculum.models import Delivery, Lesson
from extensions import db
from school.models import Classroom, Role
from tests import factories
from tests.curriculum.factories import lesson, pdf_text


def test_teacher_finds_prints_gives_and_logs_a_grade_6_lesson_in_russian(
    app, client, login, content
):
    school = factories.school()
    # A Russian-speaking teacher; the director keeps the default Kazakh interface.
    teacher = factories.user(Role.teacher, school, full_name="Асель Нурланова", locale="ru")
    director = factories.user(Role.school_admin, school, locale="kk")
    sixth = factories.classroom(school, 6, "Б", language="ru", teachers=[teacher])
    factories.classroom(school, 3, "А", language="kk")
    band_lessons = db.session.scalar(
        select(func.count(Lesson.id)).where(Lesson.band == "5-9", Lesson.retired.is_(False))
    )
    chosen = lesson("5-9", 1)
    ru = chosen.text("ru")

    login(teacher)
    page = client.get("/lessons?grade=6&lang=ru")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert ru.title in html
    assert lesson("1-4", 1).text("ru").title not in html  # another band is not offered

    page = client.get(f"/lessons/{chosen.slug}?lang=ru")
    html = page.get_data(as_text=True)
    assert ru.title in html and ru.body["steps"][0]["title"] in html
    assert f"/lessons/classes/{sixth.id}/deliver/{chosen.slug}" in html

    handout = client.get(f"/lessons/{chosen.slug}/handout.pdf?lang=ru")
    assert handout.status_code == 200 and handout.mimetype == "application/pdf"
    text = pdf_text(handout.data)
    assert ru.body["handout_title"] in text
    assert "150" in text

    form = client.get(f"/lessons/classes/{sixth.id}/deliver/{chosen.slug}")
    assert form.status_code == 200
    done = client.post(
        f"/lessons/classes/{sixth.id}/deliver/{chosen.slug}",
        data={
            "delivered_on": local_today().isoformat(),
            "language": "ru",
            "minutes_used": str(chosen.duration - 5),
            "students_present": "24",
            "steps_done": [str(i) for i in range(chosen.step_count - 1)],
            "reflection": "Ролевая игра заняла больше времени.",
        },
    )
    assert done.status_code == 302
    delivery = db.session.scalar(select(Delivery))
    assert (delivery.teacher_id, delivery.classroom_id, delivery.lesson_id) == (
        teacher.id,
        sixth.id,
        chosen.id,
    )
    assert delivery.steps_done_count == chosen.step_count - 1

    mine = client.get("/lessons/classes").get_data(as_text=True)
    assert f"1 из {band_lessons}" in mine
    assert f"{chosen.duration - 5} из {chosen.duration}" in mine

    progress = services.class_progress(Classroom.id == sixth.id, "ru")[0]
    assert (progress.delivered, progress.lessons) == (1, band_lessons)
    assert progress.last_title == ru.title

    client.post("/logout")
    login(director)
    client.get("/lang/kk")  # the browser remembered Russian from the teacher
    page = client.get("/lessons/coverage").get_data(as_text=True)
    assert "6Б" in page and "3А" in page
    assert "1 / 2" in page  # classes with lessons, in Kazakh
    assert "Бағдарламаны қамту" in page
    summary = services.coverage(Classroom.school_id == school.id)
    assert summary.classes == 2 and summary.classes_started == 1
    assert summary.delivered == 1
    assert summary.minutes_used == chosen.duration - 5
