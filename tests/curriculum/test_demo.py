"""The curriculum's part of ``seed-demo``: content loaded, two lessons logged, idempotent."""

from __future__ import annotations

from sqlalchemy import func, select

from curriculum.cli import seed_demo
from curriculum.models import CourseModule, Delivery, Lesson, LessonPlan
from extensions import db
from school.cli import seed_directory
from school.models import User


def count(column) -> int:
    return db.session.scalar(select(func.count(column)))


def test_demo_seeder_logs_two_lessons_for_the_demo_teacher_once(app):
    seed_directory()
    seed_demo()
    lessons, modules = count(Lesson.id), count(CourseModule.id)
    seed_demo()
    assert count(Lesson.id) == lessons > 0 and count(CourseModule.id) == modules > 0
    deliveries = db.session.scalars(select(Delivery)).all()
    teacher = db.session.scalar(select(User).where(User.email == "teacher@demo.qamqor.kz"))
    assert len(deliveries) == 2
    assert {d.teacher_id for d in deliveries} == {teacher.id}
    assert {d.classroom.grade for d in deliveries} == {6}
    assert any(d.steps_done_count < d.steps_total for d in deliveries)  # one was cut short
    assert count(LessonPlan.id) == 1


def test_demo_seeder_without_the_directory_only_loads_content(app):
    seed_demo()
    assert count(Lesson.id) > 0 and count(Delivery.id) == 0
