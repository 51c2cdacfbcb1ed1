"""Every page type, in Kazakh, Russian and English, checked in a real Chromium: axe-core finds no
serious or critical accessibility problem (colour contrast is checked in Kazakh, the other rules
in every language), the page says its language, and nothing is wider than the window nor cut by
its box.

The main pages are written as screenshots at phone (375 px) and desktop (1280 px) width,
``artifacts/screenshots/<page>-<lang>-<width>.png``, for translators to check the layouts, and
checked at both widths; the other pages are checked at phone width. Every axe finding, serious or
not, goes to ``artifacts/axe.jsonl``.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from core.i18n import localized
from extensions import db
from insights import surveys
from insights.models import WaveKind
from school.models import Role
from tests import factories
from tests.browser.helpers import (
    axe_violations,
    choose_language,
    log_in,
    phone_overflow,
    screenshots,
)

pytestmark = pytest.mark.browser

LANGS = ("kk", "ru", "en")
BROWSER_LOCALES = {"kk": "kk-KZ", "ru": "ru-RU", "en": "en-GB"}
SLUG = "5-9-03-i-messages"
# Colour contrast does not depend on the language: axe checks it on the Kazakh pages only.
CONTRAST_LANG = "kk"


class Review:
    """Collects what is wrong on each page, so that one run tells everything."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.problems: list[str] = []
        self.seen: list[str] = []

    def __call__(self, page: Page, name: str, *, screenshot: bool = True) -> None:
        expect(page.locator("html")).to_have_attribute("lang", self.lang)
        self.seen.append(name)
        for found in axe_violations(page, name, contrast=self.lang == CONTRAST_LANG):
            self.problems.append(
                f"{name} [{self.lang}]: axe {found['impact']} {found['id']} ({found['help']}) "
                f"at {found['targets']}"
            )
        layout = screenshots(page, name, self.lang) if screenshot else phone_overflow(page)
        self.problems += [f"{name} [{self.lang}] {p}" for p in layout]


def school_for(lang: str) -> dict:
    """A school with a counselor, a teacher and the teacher's grade 6 class."""
    school = factories.school(name=f"№ 15 жалпы білім беретін мектеп-лицейі ({lang})")
    counselor = factories.user(Role.counselor, school, full_name="Гүлнар Әбілқасымова")
    teacher = factories.user(Role.teacher, school, full_name="Ержан Төлеубаев")
    classroom = factories.classroom(school, grade=6, letter="Б", language=lang)
    classroom.teachers.append(teacher)
    db.session.commit()
    wave = surveys.open_wave(classroom, WaveKind.baseline, 5, counselor)
    db.session.commit()
    return {
        "survey_code": surveys.unspent_codes(wave)[0],
        "code": school.code,
        "name": school.name,
        "region": localized(school.region, "name", lang),
        "counselor": (counselor.email, counselor.full_name, counselor.totp_secret),
        "teacher": (teacher.email, teacher.full_name),
        "class_label": classroom.label,
    }


def student_pages(page: Page, tr, review: Review, lang: str, school: dict) -> None:
    page.goto("/")
    choose_language(page, lang)
    review(page, "home")
    page.get_by_role("link", name=tr(lang, "Tell us what happened"), exact=True).click()
    review(page, "find-school")
    page.get_by_role("link", name=school["region"], exact=True).click()
    page.get_by_label(tr(lang, "School name or number"), exact=True).fill("15")
    page.get_by_role("button", name=tr(lang, "Find"), exact=True).click()
    review(page, "find-school-results", screenshot=False)
    page.get_by_role("link", name=school["name"], exact=True).click()
    review(page, "report-form")
    page.get_by_role("button", name=tr(lang, "Send"), exact=True).click()
    expect(page.get_by_role("alert")).to_be_visible()
    review(page, "report-form-errors", screenshot=False)
    page.get_by_role("link", name=tr(lang, "I am in danger right now")).click()
    review(page, "danger")
    where = tr(lang, "If you can, tell us where you are and what is happening")
    page.get_by_label(where).fill("Мен мектептің артындамын, олар мені күтіп тұр.")
    page.get_by_role("button", name=tr(lang, "Tell the school psychologist")).click()
    review(page, "receipt")
    page.get_by_role("link", name=tr(lang, "I have written it down. Open my conversation")).click()
    review(page, "conversation")
    page.goto("/r/check")
    review(page, "check")
    page.get_by_label(tr(lang, "Your code"), exact=True).fill("1234 5678 9012 3456")
    page.get_by_role("button", name=tr(lang, "Open"), exact=True).click()
    wrong = "We could not open a report with this code. Check the 16 digits and try again."
    expect(page.get_by_text(tr(lang, wrong))).to_be_visible()
    review(page, "check-wrong-code", screenshot=False)
    page.get_by_role("link", name=tr(lang, "Quick exit")).click()
    review(page, "quick-exit", screenshot=False)
    page.goto("/r/no-such-school")
    review(page, "school-not-found", screenshot=False)


def survey_pages(page: Page, tr, review: Review, lang: str, school: dict) -> None:
    """The anonymous class climate survey, from the code on the paper slip."""
    page.goto("/s")
    choose_language(page, lang)
    review(page, "survey-code", screenshot=False)
    page.get_by_label(tr(lang, "Your code"), exact=True).fill(school["survey_code"])
    page.get_by_role("button", name=tr(lang, "Start"), exact=True).click()
    review(page, "survey")
    page.goto("/s/thanks")
    review(page, "survey-thanks", screenshot=False)


def counselor_pages(page: Page, tr, review: Review, lang: str, school: dict) -> None:
    page.goto("/login")
    choose_language(page, lang)
    review(page, "login")
    email, name, secret = school["counselor"]
    log_in(page, tr, lang, email, name, totp_secret=secret)
    review(page, "dashboard-counselor", screenshot=False)
    page.get_by_role("link", name=tr(lang, "Inbox: new reports and open cases")).click()
    review(page, "inbox")
    page.get_by_role("button", name=tr(lang, "Open a case")).first.click()
    review(page, "case")
    page.get_by_role("link", name=tr(lang, "Back to the inbox")).click()
    page.get_by_role("main").get_by_role("link", name=tr(lang, "All cases"), exact=True).click()
    review(page, "case-list", screenshot=False)
    page.goto("/staff/overdue")
    review(page, "overdue", screenshot=False)
    page.get_by_role("link", name=tr(lang, "Home"), exact=True).click()
    page.get_by_role("link", name=tr(lang, "Reports waiting for acknowledgement")).click()
    review(page, "escalations", screenshot=False)
    page.get_by_role("link", name=tr(lang, "Home"), exact=True).click()
    page.get_by_role("link", name=tr(lang, "Statistics"), exact=True).click()
    review(page, "statistics")
    page.get_by_role("link", name=tr(lang, "Home"), exact=True).click()
    page.get_by_role("link", name=tr(lang, "Class climate surveys"), exact=True).click()
    review(page, "surveys", screenshot=False)


def teacher_pages(page: Page, tr, review: Review, lang: str, school: dict) -> None:
    email, name = school["teacher"]
    log_in(page, tr, lang, email, name)
    review(page, "dashboard-teacher", screenshot=False)
    page.get_by_role("link", name=tr(lang, "Report what I saw"), exact=True).click()
    review(page, "teacher-report", screenshot=False)
    page.get_by_role("link", name=tr(lang, "Home"), exact=True).click()
    page.get_by_role("link", name=tr(lang, "Lesson library"), exact=True).click()
    review(page, "library")
    page.goto(f"/lessons/{SLUG}")
    review(page, "lesson")
    page.get_by_role("link", name=tr(lang, "Projector view")).click()
    review(page, "lesson-projector", screenshot=False)
    page.goto("/lessons/classes")
    review(page, "my-classes", screenshot=False)
    page.get_by_role("link", name=school["class_label"], exact=True).click()
    review(page, "class")
    page.get_by_role("link", name=tr(lang, "Log the lesson")).first.click()
    review(page, "log-lesson")
    page.goto("/course")
    review(page, "course", screenshot=False)
    page.goto("/learn")
    review(page, "learn", screenshot=False)


@pytest.mark.parametrize("lang", LANGS)
def test_every_page_type_passes_axe_and_fits_phone_and_desktop(
    browsing, seed, tr, curriculum_content, lang
):
    school = seed(school_for, lang)
    review = Review(lang)
    locale = BROWSER_LOCALES[lang]
    student_pages(browsing.page(locale=locale), tr, review, lang, school)
    survey_pages(browsing.page(locale=locale), tr, review, lang, school)
    counselor_pages(browsing.page(locale=locale), tr, review, lang, school)
    teacher_pages(browsing.page(locale=locale), tr, review, lang, school)

    assert len(review.seen) >= 33
    assert not review.problems, "\n".join(review.problems)
