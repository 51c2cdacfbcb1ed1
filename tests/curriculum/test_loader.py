"""The loader command stores the content idempotently, updates changed files and retires removed
ones without breaking the deliveries that point at them."""

from __future__ import annotations

from sqlalchemy import func, select

from curriculum.models import CourseModule, InfoPage, Lesson, LessonText, PageKind
from extensions import db
from school.models import Role
from tests import factories
from tests.curriculum.factories import deliver, lesson_toml, module_toml, page_toml, write


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_load_command_stores_everything_once(app, runner):
    first = runner.invoke(args=["curriculum", "load"])
    assert first.exit_code == 0, first.output
    assert "Loading content" in first.output  # the progress bar's label
    lessons, modules = count(Lesson), count(CourseModule)
    assert lessons >= 1 and modules >= 1
    assert count(LessonText) == 3 * lessons
    assert f"lessons: {lessons} added, 0 updated, 0 unchanged" in first.output

    second = runner.invoke(args=["curriculum", "load"])
    assert second.exit_code == 0, second.output
    assert f"lessons: 0 added, 0 updated, {lessons} unchanged, 0 retired" in second.output
    assert f"modules: 0 added, 0 updated, {modules} unchanged, 0 retired" in second.output
    assert (count(Lesson), count(LessonText), count(CourseModule)) == (
        lessons,
        3 * lessons,
        modules,
    )


def test_load_refuses_broken_content_and_stores_nothing(app, runner, tmp_path):
    write(tmp_path, "lessons", "5-9-01-test.toml", lesson_toml())
    write(tmp_path, "lessons", "5-9-02-test.toml", lesson_toml("5-9-02-test", order=2, duration=41))
    app.config["CURRICULUM_CONTENT_DIR"] = str(tmp_path)
    result = runner.invoke(args=["curriculum", "load"])
    assert result.exit_code == 1
    assert "lessons/5-9-02-test.toml: duration" in result.output
    assert count(Lesson) == 0


def test_changed_file_is_updated_and_removed_file_retired(app, runner, tmp_path):
    app.config["CURRICULUM_CONTENT_DIR"] = str(tmp_path)
    path = write(tmp_path, "lessons", "5-9-01-test.toml", lesson_toml())
    write(tmp_path, "lessons", "5-9-02-test.toml", lesson_toml("5-9-02-test", order=2))
    write(tmp_path, "course", "01-test.toml", module_toml())
    write(tmp_path, "leaflets", "one.toml", page_toml("one"))
    write(tmp_path, "awareness", "signs.toml", page_toml("signs", audience="public"))
    assert runner.invoke(args=["curriculum", "load"]).exit_code == 0
    first = db.session.scalar(select(Lesson).where(Lesson.slug == "5-9-01-test"))
    text_ids = sorted(text.id for text in first.texts)

    school = factories.school()
    teacher = factories.user(Role.teacher, school)
    classroom = factories.classroom(school, 6, "А", teachers=[teacher])
    deliver(classroom, first, teacher)

    path.write_text(lesson_toml().replace("Title ru", "Новое название"), encoding="utf-8")
    (tmp_path / "lessons" / "5-9-02-test.toml").unlink()
    result = runner.invoke(args=["curriculum", "load"])
    assert result.exit_code == 0, result.output
    assert "lessons: 0 added, 1 updated, 0 unchanged, 1 retired" in result.output
    assert "leaflets: 0 added, 0 updated, 1 unchanged, 0 retired" in result.output

    db.session.expire_all()
    first = db.session.get(Lesson, first.id)
    assert first.text("ru").title == "Новое название"
    assert sorted(text.id for text in first.texts) == text_ids  # rows updated in place
    assert first.retired is False
    gone = db.session.scalar(select(Lesson).where(Lesson.slug == "5-9-02-test"))
    assert gone.retired is True
    assert count(InfoPage) == 2
    assert db.session.scalar(select(InfoPage.kind).where(InfoPage.slug == "signs")) == (
        PageKind.awareness
    )
