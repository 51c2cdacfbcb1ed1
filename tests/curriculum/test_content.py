"""Content files: the real library is valid and complete; broken files are refused with the file
and the field named."""

from __future__ import annotations

from collections import Counter

import pytest

from curriculum.content import ContentError, load_library
from tests.curriculum.factories import lesson_toml, module_toml, page_toml, write


def problems_of(root) -> list[str]:
    with pytest.raises(ContentError) as caught:
        load_library(root)
    return [str(problem) for problem in caught.value.problems]


def test_the_shipped_content_is_valid():
    library = load_library()
    assert library.lessons and library.modules and library.leaflets and library.pages
    for lesson in library.lessons:
        for text in lesson.texts.values():
            assert sum(step.minutes for step in text.steps) == lesson.duration


def test_the_shipped_library_is_complete():
    """At least 24 lessons, 8 in each band; 5 course modules; 3 parent leaflets; 5 public pages."""
    library = load_library()
    per_band = Counter(lesson.band for lesson in library.lessons)
    assert len(library.lessons) >= 24
    assert per_band["1-4"] >= 8 and per_band["5-9"] >= 8 and per_band["10-11"] >= 8
    assert len(library.modules) >= 5
    assert len(library.leaflets) == 3
    assert {page.audience for page in library.leaflets} == {"parents"}
    assert len(library.pages) >= 5


def test_a_valid_small_library_loads(tmp_path):
    write(tmp_path, "lessons", "5-9-01-test.toml", lesson_toml())
    write(tmp_path, "course", "01-test.toml", module_toml())
    write(tmp_path, "leaflets", "one.toml", page_toml("one"))
    library = load_library(tmp_path)
    assert [lesson.slug for lesson in library.lessons] == ["5-9-01-test"]
    assert library.lessons[0].texts["ru"].steps[1].minutes == 20
    assert library.modules[0].answers == (1, 0)


def test_a_missing_language_names_the_file_and_the_language(tmp_path):
    write(tmp_path, "lessons", "5-9-01-test.toml", lesson_toml(languages=("kk", "en")))
    assert problems_of(tmp_path) == ["lessons/5-9-01-test.toml: ru: missing language"]


def test_steps_that_do_not_add_up_name_the_language_and_the_steps(tmp_path):
    write(
        tmp_path,
        "lessons",
        "5-9-01-test.toml",
        lesson_toml(minutes={"ru": [10, 15, 10], "kk": [10, 20, 10], "en": [10, 20, 10]}),
    )
    found = problems_of(tmp_path)
    assert "lessons/5-9-01-test.toml: ru.steps: minutes add up to 35, not the duration 40" in found


def test_steps_must_have_the_same_minutes_in_every_language(tmp_path):
    write(
        tmp_path,
        "lessons",
        "5-9-01-test.toml",
        lesson_toml(minutes={"kk": [10, 20, 10], "ru": [20, 10, 10], "en": [10, 20, 10]}),
    )
    (problem,) = problems_of(tmp_path)
    assert problem.startswith("lessons/5-9-01-test.toml: ru.steps: minutes [20, 10, 10] differ")


def test_unknown_theme_and_band_are_named(tmp_path):
    write(tmp_path, "lessons", "5-9-01-test.toml", lesson_toml(theme="karate", band="5-8"))
    found = problems_of(tmp_path)
    assert any(
        p.startswith("lessons/5-9-01-test.toml: theme: unknown value 'karate'") for p in found
    )
    assert any(p.startswith("lessons/5-9-01-test.toml: band: unknown value '5-8'") for p in found)


def test_a_lesson_must_last_a_school_lesson(tmp_path):
    write(tmp_path, "lessons", "5-9-01-test.toml", lesson_toml(duration=30))
    assert "lessons/5-9-01-test.toml: duration: must be 40 or 45 minutes, not 30" in problems_of(
        tmp_path
    )


def test_a_misspelt_field_and_an_empty_text_are_named(tmp_path):
    text = lesson_toml(extra="duraton = 40").replace('summary = "Summary ru"', 'summary = ""')
    write(tmp_path, "lessons", "5-9-01-test.toml", text)
    found = problems_of(tmp_path)
    assert "lessons/5-9-01-test.toml: duraton: unknown field (a typo?)" in found
    assert "lessons/5-9-01-test.toml: ru.summary: missing or empty text" in found


def test_a_handout_longer_than_a_page_is_refused(tmp_path):
    write(tmp_path, "lessons", "5-9-01-test.toml", lesson_toml(handout={"en": "x" * 2500}))
    (problem,) = problems_of(tmp_path)
    assert problem.startswith("lessons/5-9-01-test.toml: en.handout: 2500 characters")


def test_slug_must_match_the_file_name(tmp_path):
    write(tmp_path, "lessons", "5-9-01-other.toml", lesson_toml("5-9-01-test"))
    (problem,) = problems_of(tmp_path)
    assert problem.startswith("lessons/5-9-01-other.toml: slug: must be the file name")


def test_two_lessons_in_one_place_of_a_band_are_refused(tmp_path):
    write(tmp_path, "lessons", "5-9-01-a.toml", lesson_toml("5-9-01-a"))
    write(tmp_path, "lessons", "5-9-01-b.toml", lesson_toml("5-9-01-b"))
    (problem,) = problems_of(tmp_path)
    assert problem.startswith("lessons/5-9-01-b.toml: order: band 5-9 already has order 1")


def test_broken_toml_names_the_file(tmp_path):
    write(tmp_path, "lessons", "5-9-01-test.toml", 'slug = "5-9-01-test\n')
    (problem,) = problems_of(tmp_path)
    assert problem.startswith("lessons/5-9-01-test.toml: (syntax):")


def test_questions_must_match_the_answers_in_every_language(tmp_path):
    write(tmp_path, "course", "01-test.toml", module_toml(questions={"ru": 3}))
    found = problems_of(tmp_path)
    assert "course/01-test.toml: ru.questions: 3 questions, but answers has 2 entries" in found


def test_option_counts_must_match_across_languages(tmp_path):
    write(tmp_path, "course", "01-test.toml", module_toml(options={"en": 4}))
    (problem,) = problems_of(tmp_path)
    assert problem == (
        "course/01-test.toml: en.questions: option counts [4, 4] differ from kk.questions [3, 3]"
    )


def test_an_answer_must_point_at_an_existing_option(tmp_path):
    write(tmp_path, "course", "01-test.toml", module_toml(answers="[3, 0]"))
    found = problems_of(tmp_path)
    assert (
        "course/01-test.toml: kk.questions[0].options: answers[0] = 3 but there are only 3 options"
        in found
    )


def test_a_page_needs_a_known_audience(tmp_path):
    write(tmp_path, "awareness", "signs.toml", page_toml("signs", audience="teachers"))
    (problem,) = problems_of(tmp_path)
    assert problem.startswith("awareness/signs.toml: audience: unknown value 'teachers'")


def test_every_problem_of_every_file_is_reported_at_once(tmp_path):
    write(tmp_path, "lessons", "5-9-01-test.toml", lesson_toml(languages=("kk", "ru")))
    write(tmp_path, "course", "01-test.toml", module_toml(questions={"kk": 1}))
    found = problems_of(tmp_path)
    assert any(p.startswith("lessons/") for p in found)
    assert any(p.startswith("course/") for p in found)


def test_check_command_prints_each_problem_and_fails(app, runner, tmp_path):
    write(tmp_path, "lessons", "5-9-01-test.toml", lesson_toml(theme="karate"))
    app.config["CURRICULUM_CONTENT_DIR"] = str(tmp_path)
    result = runner.invoke(args=["curriculum", "check"])
    assert result.exit_code == 1
    assert "lessons/5-9-01-test.toml: theme: unknown value 'karate'" in result.output


def test_check_command_counts_a_valid_library(app, runner, tmp_path):
    write(tmp_path, "lessons", "5-9-01-test.toml", lesson_toml())
    app.config["CURRICULUM_CONTENT_DIR"] = str(tmp_path)
    result = runner.invoke(args=["curriculum", "check"])
    assert result.exit_code == 0, result.output
    assert "OK: 1 lessons, 0 course modules, 0 leaflets, 0 public pages" in result.output
