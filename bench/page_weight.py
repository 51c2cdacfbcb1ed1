"""Page weight: bytes of every student page and of the main staff pages, raw and compressed, and
whether a page needs JavaScript.

For each page: the HTML, the stylesheets and images it links (each a response of its own,
compressed on its own), their gzip sizes (level 6), and the number of ``<script>`` elements
(0: the page works without JavaScript). Budget (issue 3): a student page is at most 30 KB
compressed, HTML and CSS together, with no JavaScript; the report form is also measured in
all three languages.

Data: the demo school with every package's demo data (``flask seed-demo``), pages in Kazakh
unless said otherwise, CSRF on (the hidden tokens are part of the weight).

Run: ``.venv/bin/python bench/page_weight.py``; prints the tables and appends them to
``bench/RESULTS.md`` with the date, the machine and the commit.
"""

from __future__ import annotations

import argparse
import gzip
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402 - after the path is set
    COUNSELOR,
    DEMO_PASSWORD,
    append_results,
    heading,
    hidden_fields,
    make_app,
    scratch,
    seed_demo,
    table,
    throwaway_database,
)
from core.opaque import opaque  # noqa: E402

BUDGET = 30 * 1024
LINKED = re.compile(rb'<(?:link rel="stylesheet" href|img[^>]*?\bsrc)="(/[^"]+)"')
SCRIPT = re.compile(rb"<script\b")


def gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6))


@dataclass
class Weight:
    group: str
    page: str
    status: int
    html: int
    html_gz: int
    linked: int
    linked_gz: int
    scripts: int

    @property
    def total_gz(self) -> int:
        return self.html_gz + self.linked_gz


def weigh(client, group: str, name: str, response) -> Weight:
    html = response.data
    resources = [
        client.get(path.decode().replace("&amp;", "&")).data for path in LINKED.findall(html)
    ]
    return Weight(
        group,
        name,
        response.status_code,
        len(html),
        gz(html),
        sum(map(len, resources)),
        sum(map(gz, resources)),
        len(SCRIPT.findall(html)),
    )


def login(app, email: str):
    client = app.test_client()
    token = hidden_fields(client.get("/login").get_data(as_text=True))["csrf_token"]
    response = client.post(
        "/login", data={"csrf_token": token, "email": email, "password": DEMO_PASSWORD}
    )
    if response.status_code != 302:
        raise SystemExit(f"log-in as {email}: HTTP {response.status_code}")
    return client


def report_fields(page: str) -> dict:
    return {
        **hidden_fields(page),
        "forms": ["bullying", "verbal"],
        "victim": "me",
        "perpetrator": "students",
        "place": "corridor",
        "frequency": "daily",
        "happened": "today",
        "grade_band": "5-9",
        "description": "Екі бала күнде мені мазақтайды.",
    }


def survey_code(app, school_id: int) -> str:
    from sqlalchemy import select

    from extensions import db
    from insights import surveys
    from insights.models import WaveKind
    from school.models import Classroom, Role, User

    with app.app_context():
        classroom = db.session.scalar(
            select(Classroom)
            .where(Classroom.school_id == school_id, Classroom.grade >= 5)
            .order_by(Classroom.grade)
        )
        opener = db.session.scalar(select(User).where(User.role == Role.counselor))
        wave = surveys.open_wave(classroom, WaveKind.follow_up, 25, opener)
        db.session.commit()
        return surveys.unspent_codes(wave)[0]


def student_pages(app, info: dict) -> list[Weight]:
    from sqlalchemy import select

    from curriculum.models import InfoPage, PageKind
    from extensions import db
    from school.models import School

    with app.app_context():
        region_id = db.session.scalar(
            select(School.region_id).where(School.id == info["school_id"])
        )
        awareness = db.session.scalar(
            select(InfoPage.slug)
            .where(InfoPage.kind == PageKind.awareness)
            .order_by(InfoPage.position)
        )
    code = info["school_code"]
    rows = []
    student = app.test_client()

    def page(name: str, path: str, client=student):
        rows.append(weigh(client, "student", name, client.get(path)))

    page("public front door /", "/")
    page("find the school /r/", "/r/")
    page("schools of a region /r/?region=…", f"/r/?region={region_id}&q=мектеп")
    page("report form /r/<code>", f"/r/{code}")
    page("danger: help at once /r/<code>/danger", f"/r/{code}/danger")
    page("school not found (404)", "/r/no-such-school")
    form = student.get(f"/r/{code}").get_data(as_text=True)
    receipt = student.post(f"/r/{code}", data=report_fields(form))
    rows.append(weigh(student, "student", "receipt (after sending)", receipt))
    page("conversation /r/conversation", "/r/conversation")
    page("check a code /r/check", "/r/check", app.test_client())
    page("quick exit /r/exit", "/r/exit", app.test_client())
    page("learn: what violence is /learn", "/learn")
    if awareness:
        page("learn: one page /learn/<slug>", f"/learn/{awareness}")
    surveyed = app.test_client()
    page("survey: enter the code /s", "/s", surveyed)
    answers = surveyed.post("/s", data={"code": survey_code(app, info["school_id"])})
    rows.append(weigh(surveyed, "student", "survey: the questions (after the code)", answers))
    page("survey: thank you /s/thanks", "/s/thanks", surveyed)
    return rows


def staff_pages(app, info: dict) -> list[Weight]:
    from sqlalchemy import select

    from curriculum.models import Lesson
    from extensions import db
    from school.models import Classroom

    with app.app_context():
        lesson = db.session.scalar(
            select(Lesson.slug).where(Lesson.band == "5-9").order_by(Lesson.position)
        )
        classroom = db.session.scalar(
            select(Classroom.id)
            .where(Classroom.school_id == info["school_id"])
            .order_by(Classroom.id)
        )
    rows = [weigh(app.test_client(), "staff", "log-in /login", app.test_client().get("/login"))]
    pages = [
        (COUNSELOR, "counselor: home /staff", "/staff"),
        (COUNSELOR, "counselor: inbox", "/staff/inbox"),
        (COUNSELOR, "counselor: case page", f"/staff/cases/{info['case_token']}"),
        (COUNSELOR, "counselor: all cases", "/staff/cases"),
        ("teacher@demo.qamqor.kz", "teacher: lesson library", "/lessons"),
        ("teacher@demo.qamqor.kz", "teacher: a lesson", f"/lessons/{lesson}"),
        ("teacher@demo.qamqor.kz", "teacher: class progress", f"/lessons/classes/{classroom}"),
        ("teacher@demo.qamqor.kz", "teacher: report what I saw", "/staff/my-reports/new"),
        ("director@demo.qamqor.kz", "school admin: statistics", "/insights/"),
        ("director@demo.qamqor.kz", "school admin: coverage", "/lessons/coverage"),
        ("analyst@demo.qamqor.kz", "analyst: regional statistics", "/insights/"),
    ]
    clients: dict[str, object] = {}
    for email, name, path in pages:
        client = clients.setdefault(email, login(app, email))
        rows.append(weigh(client, "staff", name, client.get(path)))
    return rows


def report_form_languages(app, code: str) -> list[list]:
    rows = []
    for locale in ("kk", "ru", "en"):
        client = app.test_client()
        client.get(f"/lang/{locale}")
        weight = weigh(client, "student", f"report form ({locale})", client.get(f"/r/{code}"))
        ok = "ok" if weight.total_gz <= BUDGET and weight.scripts == 0 else "OVER"
        rows.append(
            [
                locale,
                f"{weight.html:,}",
                f"{weight.html_gz:,}",
                f"{weight.linked:,}",
                f"{weight.linked_gz:,}",
                f"{weight.total_gz:,}",
                f"{ok} (≤ {BUDGET:,})",
                weight.scripts,
            ]
        )
    return rows


def measure() -> tuple[list[list], list[Weight]]:
    from sqlalchemy import select

    from extensions import db
    from incidents.cases.enums import CaseState
    from incidents.cases.models import Case

    with scratch("qamqor-weight-") as folder, throwaway_database("sqlite", folder) as url:
        app = make_app(url, folder / "instance")
        info = seed_demo(app)
        with app.app_context():
            info["case_id"] = db.session.scalar(
                select(Case.id).where(Case.state == CaseState.in_progress).order_by(Case.id)
            )
            info["case_token"] = opaque(info["case_id"])
        languages = report_form_languages(app, info["school_code"])
        pages = student_pages(app, info) + staff_pages(app, info)
        with app.app_context():
            db.engine.dispose()
    return languages, pages


def render(languages: list[list], pages: list[Weight]) -> str:
    text = heading("Page weight")
    text += "\nBytes; gzip level 6; CSS and images counted once per page, each compressed on its own.\n\n"
    text += "Report form, by language (budget: 30 KB compressed HTML + CSS, no script):\n\n"
    text += table(
        ["language", "HTML", "HTML gz", "CSS", "CSS gz", "total gz", "budget", "scripts"],
        languages,
        "lrrrrrlr",
    )
    rows = []
    for weight in pages:
        verdict = ""
        if weight.group == "student":
            verdict = "ok" if weight.total_gz <= BUDGET and weight.scripts == 0 else "OVER"
        rows.append(
            [
                weight.group,
                weight.page,
                weight.status,
                f"{weight.html:,}",
                f"{weight.html_gz:,}",
                f"{weight.linked:,}",
                f"{weight.linked_gz:,}",
                f"{weight.total_gz:,}",
                "no" if weight.scripts == 0 else f"yes ({weight.scripts} scripts)",
                verdict,
            ]
        )
    text += "\n\nEvery student page and the main staff pages (Kazakh):\n\n"
    text += table(
        [
            "who",
            "page",
            "HTTP",
            "HTML",
            "HTML gz",
            "CSS+img",
            "CSS+img gz",
            "total gz",
            "needs JavaScript",
            "student budget",
        ],
        rows,
        "llrrrrrrll",
    )
    heaviest = max((w for w in pages if w.group == "student"), key=lambda w: w.total_gz)
    scripted = [w.page for w in pages if w.scripts]
    text += (
        f"\n\n- Heaviest student page: {heaviest.page}, {heaviest.total_gz:,} bytes compressed"
        f" ({heaviest.total_gz / BUDGET:.0%} of the budget)."
        f"\n- Pages with a script: {', '.join(scripted) if scripted else 'none'}.\n"
    )
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args()
    languages, pages = measure()
    text = render(languages, pages)
    print(text)
    bad = [w.page for w in pages if w.status >= 500]
    if bad:
        raise SystemExit(f"pages answered with a server error: {bad}")
    if not args.no_save:
        append_results(text)


if __name__ == "__main__":
    main()
