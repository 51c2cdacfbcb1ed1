"""The referral letter: the injury that made it mandatory starts ticked; the Russian letter says
the protocol's time neutrally (not «следовало направить до», an admission), with no «г..»."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from core.opaque import opaque
from incidents.cases.enums import Screening
from incidents.intake.models import ViolenceForm
from school.models import BodyKind
from tests.incidents.case_factories import (  # noqa: F401 - english_messages is a fixture
    english_messages,
    staffed_school,
    triaged_case,
)

pytestmark = pytest.mark.usefixtures("english")


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_injury_that_made_the_referral_mandatory_starts_ticked(app):
    staff = staffed_school()
    case = triaged_case(
        staff, forms=[ViolenceForm.physical], screening=Screening.peer_violence, injury=True
    )
    police = next(r for r in case.referrals if r.body_kind == BodyKind.police)
    assert police.required and "injury" in police.facts


def test_without_an_injury_the_fact_stays_out(app):
    staff = staffed_school()
    case = triaged_case(staff, forms=[ViolenceForm.sexual], screening=Screening.peer_violence)
    assert all("injury" not in r.facts for r in case.referrals)


def test_the_russian_letter_words_the_deadline_neutrally_without_a_double_point(client, login):
    staff = staffed_school()
    case = triaged_case(
        staff, forms=[ViolenceForm.physical], screening=Screening.peer_violence, injury=True
    )
    police = next(r for r in case.referrals if r.body_kind == BodyKind.police)
    login(staff.counselor)
    client.post(
        f"/staff/referrals/{opaque(police.id)}",
        data={"body_id": staff.police.id, "language": "ru", "facts": police.facts},
    )
    client.post(f"/staff/referrals/{opaque(police.id)}/send", data={"reference_number": "7"})
    text = _text(client.get(f"/staff/referrals/{opaque(police.id)}/letter.pdf").data)
    flat = re.sub(r"\s+", " ", text)
    assert "следовало" not in flat
    assert "Срок направления уведомления по протоколу реагирования школы" in flat
    assert "г.." not in flat and "ж.." not in flat


def test_the_signature_block_never_stands_alone_on_a_page(app):
    """Whatever the length of what the school writes, the page with the signatures also carries
    the closing words before them (the letter's last lines are kept together)."""
    from incidents.referrals.letters import render_letter

    staff = staffed_school()
    case = triaged_case(
        staff, forms=[ViolenceForm.physical], screening=Screening.peer_violence, injury=True
    )
    police = next(r for r in case.referrals if r.body_kind == BodyKind.police)
    police.body = staff.police
    police.language = "ru"
    split = 0
    for lines in range(8, 40, 2):
        police.facts_text = "\n".join(f"Строка {n} того, что известно школе." for n in range(lines))
        pages = [
            re.sub(r"\s+", " ", page.extract_text())
            for page in PdfReader(io.BytesIO(render_letter(police))).pages
        ]
        last = pages[-1]
        assert "М.П." in last, last
        if len(pages) > 1:
            split += 1
            assert "Контактное лицо" in last, f"{lines} lines: the signatures alone: {last!r}"
    assert split, "no length of the text pushed the letter onto a second page"
