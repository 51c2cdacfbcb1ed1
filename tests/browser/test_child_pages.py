"""What a child sees, in a real Chromium with JavaScript off (issue 20, "The child"): the required
questions are marked and each error links to its question; the danger button and the urgent box
do not look alike; regions in the alphabet's order; a school found by its Russian or Kazakh name;
the quick exit on every page a child may be reading; an expired form speaks to the child."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from core.collation import sort_key
from curriculum.models import Audience, InfoPage
from extensions import db
from school.models import Region
from tests import factories
from tests.browser.helpers import screenshots

pytestmark = pytest.mark.browser

KK, RU = "kk", "ru"
REQUIRED = ("forms", "victim", "perpetrator", "place", "frequency", "happened")
FORMAL_RU = re.compile(r"(?i)(?<!\w)(вы|вас|вам|ваш\w*)(?!\w)|(?<!\w)\w+(ите|йте)(?!\w)")
FORMAL_KK = re.compile(r"(?i)(?<!\w)сіз\w*|(?<!\w)\w+(ңыз|ңіз)(?!\w)")


def child_page(browsing, lang: str) -> Page:
    page = browsing.page(javascript=False, locale={"kk": "kk-KZ", "ru": "ru-RU"}[lang])
    page.goto(f"/lang/{lang}")
    return page


def main_text(page: Page) -> str:
    return page.locator("main").inner_text()


@pytest.mark.parametrize("lang", [KK, RU])
def test_an_empty_form_names_each_missing_answer_with_a_link_to_its_question(
    browsing, seed, tr, lang
):
    code = seed(lambda: factories.school("Мектеп № 21").code)
    page = child_page(browsing, lang)
    page.goto(f"/r/{code}")
    # The six required questions say so, the optional one does not.
    mark = f"({tr(lang, 'required')})"
    for name in REQUIRED:
        legend = page.locator(f"fieldset:has(#{name}-0) > legend")
        expect(legend).to_contain_text(mark)
    expect(page.locator("fieldset:has(#grade_band-0) > legend")).not_to_contain_text(mark)

    page.get_by_role("button", name=tr(lang, "Send"), exact=True).click()
    summary = page.get_by_role("alert").filter(has=page.get_by_role("link"))
    expect(summary).to_contain_text(
        tr(lang, "Look at the questions below: some answers are missing or need a change.")
    )
    links = summary.get_by_role("link")
    expect(links).to_have_count(len(REQUIRED))
    for link, name in zip(links.all(), REQUIRED, strict=True):
        assert link.get_attribute("href") == f"#{name}-0"
        # The link lands on the question's first choice, inside the fieldset of that question.
        legend = page.locator(f"fieldset:has(#{name}-0) > legend").inner_text()
        question = legend.replace(mark, "").strip()
        expect(link).to_contain_text(question)
    links.nth(2).click()
    expect(page).to_have_url(re.compile(r"#perpetrator-0$"))
    expect(page.locator("#perpetrator-0")).to_be_in_viewport()
    # The whole page speaks to the child: no formal «вы»/«сіз» in an error.
    formal = FORMAL_KK if lang == KK else FORMAL_RU
    assert not formal.search(summary.inner_text()), summary.inner_text()
    for error in page.locator("p.error").all():
        assert not formal.search(error.inner_text()), error.inner_text()
    assert not screenshots(page, "report-form-errors", lang)


def test_the_danger_button_and_the_urgent_box_do_not_look_alike(browsing, seed):
    code = seed(lambda: factories.school("Мектеп № 22").code)
    page = child_page(browsing, KK)
    page.goto(f"/r/{code}")
    button = page.locator("a.button.danger")
    box = page.locator(".check-danger")
    look = """(el) => { const s = getComputedStyle(el);
        return {bg: s.backgroundColor, border: s.borderTopColor, style: s.borderTopStyle}; }"""
    button_look, box_look = button.evaluate(look), box.evaluate(look)
    red = button_look["bg"]
    # The box shares no colour with the button: neither its border nor its background is the
    # button's red, nor a tint of red.
    assert box_look["border"] != red and box_look["bg"] != red, (button_look, box_look)
    r, g, b = (int(v) for v in re.findall(r"\d+", box_look["bg"])[:3])
    assert not (r > g + 12 and r > b + 12), f"the urgent box is reddish: {box_look}"
    assert not screenshots(page, "report-form", KK)


def test_regions_are_in_the_order_of_the_readers_alphabet(browsing, seed, tr):
    names = seed(
        lambda: (
            factories.region(),
            [(r.name_kk, r.name_ru) for r in db.session.scalars(select(Region))],
        )[1]
    )
    for lang, column in ((KK, 0), (RU, 1)):
        page = child_page(browsing, lang)
        page.goto("/r/")
        listed = page.locator(".pick-list a").all_inner_texts()
        assert listed == sorted((n[column] for n in names), key=lambda n: sort_key(n, lang))
    kk = child_page(browsing, KK)
    kk.goto("/r/")
    listed = kk.locator(".pick-list a").all_inner_texts()
    position = {name: i for i, name in enumerate(listed)}
    akmola = next(n for n in listed if n.startswith("Ақмола"))
    atyrau = next(n for n in listed if n.startswith("Атырау"))
    karaganda = next(n for n in listed if n.startswith("Қарағанды"))
    zhambyl = next(n for n in listed if n.startswith("Жамбыл"))
    mangystau = next(n for n in listed if n.startswith("Маңғыстау"))
    ulytau = next(n for n in listed if n.startswith("Ұлытау"))
    shymkent = next(n for n in listed if n.startswith("Шымкент"))
    assert position[akmola] < position[atyrau]
    assert position[zhambyl] < position[karaganda] < position[mangystau]
    assert position[ulytau] < position[shymkent]


def test_a_school_is_found_by_its_russian_or_its_kazakh_name(browsing, seed, tr):
    school = seed(
        lambda: (
            s := factories.school(
                "№ 1 Абай атындағы мектеп-гимназия", name_ru="Школа-гимназия № 1 имени Абая"
            ),
            {"code": s.code, "region": s.region.name_ru, "region_kk": s.region.name_kk},
        )[1]
    )
    for lang, query, shown in (
        (RU, "школа 1", "Школа-гимназия № 1 имени Абая"),
        (RU, "мектеп 1", "Школа-гимназия № 1 имени Абая"),
        (KK, "школа 1", "№ 1 Абай атындағы мектеп-гимназия"),
    ):
        page = child_page(browsing, lang)
        page.goto("/r/")
        region = school["region"] if lang == RU else school["region_kk"]
        page.get_by_role("link", name=region, exact=True).click()
        page.get_by_label(tr(lang, "School name or number"), exact=True).fill(query)
        page.get_by_role("button", name=tr(lang, "Find"), exact=True).click()
        page.get_by_role("link", name=shown, exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(tr(lang, "Tell us what happened"))
        expect(page.get_by_text(shown, exact=True)).to_be_visible()
        assert page.url.endswith(f"/r/{school['code']}")


def test_every_page_a_child_may_read_has_the_quick_exit(browsing, seed, tr, curriculum_content):
    slug = seed(
        lambda: db.session.scalar(
            select(InfoPage.slug).where(InfoPage.audience == Audience.children).limit(1)
        )
    )
    assert slug, "the content has a page for children"
    for lang in (KK, RU):
        page = child_page(browsing, lang)
        for path in ("/", "/learn", f"/learn/{slug}", "/s", "/s/thanks", "/r/"):
            page.goto(path)
            exit_link = page.get_by_role("link", name=tr(lang, "Quick exit"), exact=True)
            expect(exit_link).to_be_visible()
        exit_link.click()
        expect(page.locator("body.neutral")).to_be_visible()


def test_an_expired_form_speaks_to_the_child_and_keeps_the_quick_exit(browsing, seed, tr):
    code = seed(lambda: factories.school("Мектеп № 23").code)
    for lang, formal in ((RU, FORMAL_RU), (KK, FORMAL_KK)):
        page = child_page(browsing, lang)
        page.goto(f"/r/{code}")
        page.get_by_label(tr(lang, "Tell us in your own words"), exact=True).fill("Мені ұрды")
        # The phone lay unused: the session, and with it the form's token, is gone.
        page.context.clear_cookies()
        page.get_by_role("button", name=tr(lang, "Send"), exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(tr(lang, "This form has expired"))
        text = main_text(page)
        assert not formal.search(text), text
        expect(page.get_by_role("link", name=tr(lang, "Quick exit"), exact=True)).to_be_visible()
