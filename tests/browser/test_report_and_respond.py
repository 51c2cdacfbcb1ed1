"""The whole loop of a report in a real Chromium: a student reports in Kazakh with a photo from
disk and keeps the receipt; the counselor logs in with two-factor log-in, opens a case, triages
it and replies in Russian; the student comes back with the receipt, reads the reply and answers.

The student's part runs twice: with JavaScript, and with JavaScript switched off (the student
pages must work on a cheap phone without it). The counselor always has JavaScript.
"""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import select

from core.i18n import localized
from extensions import db
from incidents.cases.enums import RiskLevel, Screening
from incidents.cases.models import Case
from incidents.intake import uploads
from incidents.intake.forms import PERPETRATOR_CHOICES, VICTIM_CHOICES
from incidents.intake.models import (
    Attachment,
    AuthorKind,
    Frequency,
    Message,
    Place,
    Report,
    ViolenceForm,
    WhenHappened,
)
from incidents.intake.status import CHILD_STATUS_TITLES, ChildStatus
from school.models import School
from tests.browser.helpers import (
    RECEIPT_CODE,
    choose_language,
    jpeg_with_location,
    log_in,
    school_with_counselor,
    section,
)

pytestmark = pytest.mark.browser

KK, RU = "kk", "ru"
DESCRIPTION = "Екі сыныптасым үзілісте мені күнде мазақтап, телефонымды тартып алады."
REPLY = "Спасибо, что написал(а). Я школьный психолог, давай поговорим завтра на большой перемене?"
ANSWER = "Жарайды, ертең үзілісте келемін. Рақмет."


def choice(page: Page, tr, question, answer) -> None:
    """Tick the answer of a question of radio buttons (a fieldset named by its legend, which
    may end with the mark of a required question)."""
    group = page.get_by_role("group", name=re.compile("^" + re.escape(tr(KK, question))))
    group.get_by_role("radio", name=tr(KK, answer), exact=True).check()


def student_reports(page: Page, tr, school: dict, photo, *, by_region: str | None) -> str:
    """From the home page to the receipt; returns the code as shown."""
    page.goto("/")
    choose_language(page, KK)
    page.get_by_role("link", name=tr(KK, "Tell us what happened"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(tr(KK, "Find your school"))
    if by_region:  # the regions list, then a search by name
        page.get_by_role("link", name=by_region, exact=True).click()
        page.get_by_label(tr(KK, "School name or number"), exact=True).fill(school["name"][-6:])
        page.get_by_role("button", name=tr(KK, "Find"), exact=True).click()
        page.get_by_role("link", name=school["name"], exact=True).click()
    else:  # the code from the school's poster
        code_box = page.get_by_label(tr(KK, "Do you have the school code from the poster?"))
        code_box.fill(school["code"].upper())
        page.get_by_role("button", name=tr(KK, "Go"), exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(tr(KK, "Tell us what happened"))
    expect(page.get_by_text(school["name"], exact=True)).to_be_visible()
    what = page.get_by_role("group", name=tr(KK, "What happened?"))
    for form in (ViolenceForm.bullying, ViolenceForm.belongings):
        title = re.escape(tr(KK, form.TITLES[form]))
        what.get_by_role("checkbox", name=re.compile(f"^{title}")).check()
    choice(page, tr, "Who was hurt?", VICTIM_CHOICES[0].label)  # "Me"
    choice(page, tr, "Who did it?", PERPETRATOR_CHOICES[0].label)  # "A student or several"
    choice(page, tr, "Where did it happen?", Place.TITLES[Place.classroom])
    choice(page, tr, "How often does it happen?", Frequency.TITLES[Frequency.daily])
    choice(page, tr, "When did it happen last?", WhenHappened.TITLES[WhenHappened.today])
    page.get_by_label(tr(KK, "Tell us in your own words"), exact=True).fill(DESCRIPTION)
    files = page.get_by_label(tr(KK, "Photos, screenshots or PDF files (if you have them)"))
    files.set_input_files(photo)
    page.get_by_role("button", name=tr(KK, "Send"), exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(tr(KK, "Thank you for telling us"))
    expect(page.locator("html")).to_have_attribute("lang", KK)
    code = page.get_by_role("region", name=tr(KK, "Your secret code")).locator("code")
    expect(code).to_have_text(RECEIPT_CODE)
    return code.inner_text()


def counselor_opens_triages_and_replies(page: Page, tr, school: dict) -> None:
    """From the log-in to the reply; the page stays on the case."""
    log_in(
        page,
        tr,
        RU,
        school["counselor_email"],
        school["counselor_name"],
        totp_secret=school["counselor_secret"],
    )
    page.get_by_role("link", name=tr(RU, "Inbox: new reports and open cases")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(tr(RU, "Inbox"))
    new_reports = page.get_by_role("row").filter(
        has=page.get_by_role("button", name=tr(RU, "Open a case"))
    )
    expect(new_reports).to_have_count(1)
    new_reports.get_by_role("button", name=tr(RU, "Open a case")).click()

    expect(page).to_have_url(re.compile(r"/staff/cases/[0-9a-z]{7}$"))
    reported = section(page, tr(RU, "What was reported"))
    expect(reported).to_contain_text(DESCRIPTION)
    expect(reported).to_contain_text(tr(RU, ViolenceForm.TITLES[ViolenceForm.bullying]))
    # The photo the student sent opens for the counselor (cleaned of its metadata on arrival).
    picture = reported.get_by_role("link", name=tr(RU, "Picture %(number)d", number=1))
    expect(picture).to_be_visible()
    opened = page.request.get(picture.get_attribute("href"))
    assert opened.status == 200 and opened.headers["content-type"] == "image/jpeg"

    triage = section(page, tr(RU, "Triage"))
    screening = triage.get_by_role("group", name=tr(RU, "Screening result"), exact=True)
    bullying = tr(RU, Screening.TITLES[Screening.bullying])
    screening.get_by_role("radio", name=bullying, exact=True).check()
    risk = triage.get_by_role("group", name=tr(RU, "Risk level"), exact=True)
    risk.get_by_role("radio", name=tr(RU, RiskLevel.TITLES[RiskLevel.medium]), exact=True).check()
    expect(triage.get_by_label(tr(RU, "Assigned school psychologist"))).to_have_value(
        re.compile(r"\d+")
    )
    triage.get_by_role("button", name=tr(RU, "Save the triage")).click()
    expect(page.get_by_role("status")).to_contain_text(tr(RU, "The case has been triaged."))

    messages = section(page, tr(RU, "Messages with the student"))
    messages.get_by_label(tr(RU, "Message to the student"), exact=True).fill(REPLY)
    messages.get_by_role("button", name=tr(RU, "Send to the student")).click()
    expect(page.get_by_role("status")).to_contain_text(
        tr(RU, "Your message has been sent. The student will see it with their receipt code.")
    )
    expect(section(page, tr(RU, "Messages with the student"))).to_contain_text(REPLY)


def student_returns_and_answers(page: Page, tr, code: str) -> None:
    page.goto("/")
    choose_language(page, KK)
    page.get_by_role("link", name=tr(KK, "Tell us what happened"), exact=True).click()
    page.get_by_role(
        "link", name=tr(KK, "I already have a secret code from an earlier report")
    ).click()
    page.get_by_label(tr(KK, "Your code"), exact=True).fill(code)
    page.get_by_role("button", name=tr(KK, "Open"), exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(
        tr(KK, "Your conversation with the school psychologist")
    )
    status = tr(KK, CHILD_STATUS_TITLES[ChildStatus.in_progress])
    expect(page.get_by_role("region", name=status)).to_be_visible()
    expect(page.get_by_role("list").filter(has_text=REPLY)).to_be_visible()
    # Each message says when it was written: the day and the time (issue 20).
    reply = page.get_by_role("listitem").filter(has_text=REPLY)
    expect(reply.locator(".who")).to_have_text(re.compile(r"\b\d{1,2}:\d{2}\b"))
    page.get_by_label(tr(KK, "Your answer"), exact=True).fill(ANSWER)
    page.get_by_role("button", name=tr(KK, "Send"), exact=True).click()
    expect(page.get_by_role("status")).to_have_text(
        tr(KK, "Sent. The school psychologist will see it.")
    )
    expect(page.get_by_role("list").filter(has_text=ANSWER)).to_be_visible()

    # Quick exit ends the conversation (and forgets the chosen language: the phone's is used):
    # going there again asks for the code.
    page.get_by_role("link", name=tr(KK, "Quick exit")).click()
    page.goto("/r/conversation")
    expect(page.get_by_role("heading", level=1)).to_have_text(tr(KK, "Open your report"))


def stored_report(school_id: int) -> dict:
    report = db.session.scalars(select(Report).where(Report.school_id == school_id)).one()
    files = db.session.scalars(select(Attachment).where(Attachment.report_id == report.id)).all()
    photo = Image.open(io.BytesIO(uploads.load_bytes(files[0].storage_key))) if files else None
    return {
        "forms": sorted(form.value for form in report.violence_forms),
        "description": report.description,
        "files": [f.content_type for f in files],
        "photo_exif": dict(photo.getexif()) if photo else None,
        "photo_size": photo.size if photo else None,
    }


def conversation_of(school_id: int) -> list[tuple[str, str]]:
    rows = db.session.execute(
        select(Message.author_kind, Message.body)
        .join(Report, Report.id == Message.report_id)
        .where(Report.school_id == school_id)
        .order_by(Message.id)
    ).all()
    return [(kind.value, body) for kind, body in rows]


def case_state(school_id: int) -> tuple[str, str]:
    case = db.session.scalars(select(Case).where(Case.school_id == school_id)).one()
    return case.state.value, case.risk.value


def region_name_kk(school_id: int) -> str:
    return localized(db.session.get(School, school_id).region, "name", KK)


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_student_reports_counselor_replies_student_answers(
    browsing, seed, tr, tmp_path, javascript
):
    school = seed(school_with_counselor, f"Мектеп-гимназия № {'71' if javascript else '72'}")
    photo = jpeg_with_location(tmp_path / "photo.jpg")
    student = browsing.page(javascript=javascript, locale="kk-KZ")

    code = student_reports(
        student,
        tr,
        school,
        photo,
        by_region=None if javascript else seed(region_name_kk, school["school_id"]),
    )
    stored = seed(stored_report, school["school_id"])
    assert stored["forms"] == ["belongings", "bullying"]
    assert stored["description"] == DESCRIPTION
    assert stored["files"] == ["image/jpeg"]
    assert stored["photo_size"] == (320, 240)
    assert not stored["photo_exif"], "the camera model and the position must be gone"

    counselor = browsing.page(locale="ru-RU")
    counselor_opens_triages_and_replies(counselor, tr, school)
    assert seed(case_state, school["school_id"]) == ("triaged", "medium")

    student_returns_and_answers(browsing.page(javascript=javascript, locale="kk-KZ"), tr, code)
    assert seed(conversation_of, school["school_id"]) == [
        (AuthorKind.staff.value, REPLY),
        (AuthorKind.reporter.value, ANSWER),
    ]

    # Back on the staff side: the answer is on the case page, the report no longer new.
    counselor.reload()
    thread = section(counselor, tr(RU, "Messages with the student"))
    expect(thread).to_contain_text(ANSWER)
    counselor.get_by_role("link", name=tr(RU, "Back to the inbox")).click()
    expect(counselor.get_by_role("button", name=tr(RU, "Open a case"))).to_have_count(0)
