"""Receipt codes are kept only as keyed slow hashes; priority follows the documented rule."""

from __future__ import annotations

import pytest

from app import create_app
from incidents.intake import receipts
from incidents.intake.models import Frequency, Perpetrator, Priority, ViolenceForm
from incidents.intake.priority import compute_priority


def test_a_code_is_16_digits_shown_in_groups_of_four():
    code = receipts.new_code()
    assert len(code) == 16 and code.isdigit()
    assert receipts.format_code("1234567890123456") == "1234 5678 9012 3456"
    assert receipts.normalize_code(" 1234-5678 9012 3456 ") == "1234567890123456"
    assert receipts.normalize_code("1234") is None


def test_the_hash_is_stable_keyed_and_never_the_code(app):
    code = receipts.new_code()
    digest = receipts.hash_code(code)
    assert digest == receipts.hash_code(code) and code not in digest
    assert digest != receipts.hash_code(receipts.new_code())
    assert receipts.hash_typed_code(receipts.format_code(code)) == digest
    assert receipts.hash_typed_code("12") is None


def test_the_pepper_is_generated_once_into_the_instance_folder(app, tmp_path):
    pepper_file = tmp_path / "instance" / "receipt_pepper"
    assert pepper_file.exists() and oct(pepper_file.stat().st_mode & 0o777) == "0o600"
    code = "1111222233334444"
    digest = receipts.hash_code(code)
    again = create_app(
        {"SECRET_KEY": "test", "INSTANCE_PATH": str(tmp_path / "instance"), "TESTING": True}
    )
    with again.app_context():
        assert receipts.hash_code(code) == digest
    other = create_app(
        {"SECRET_KEY": "test", "INSTANCE_PATH": str(tmp_path / "other"), "RECEIPT_PEPPER": "x"}
    )
    with other.app_context():
        assert receipts.hash_code(code) != digest


def test_wrong_code_delay_grows_and_is_bounded():
    delays = [receipts.wrong_code_delay(n, 0.5, 8.0) for n in range(0, 9)]
    assert delays[:6] == [0.0, 0.5, 1.0, 2.0, 4.0, 8.0]
    assert max(delays) == 8.0 and receipts.wrong_code_delay(10**6, 0.5, 8.0) == 8.0


def p(*forms, perpetrator=Perpetrator.students, frequency=Frequency.once, danger=False):
    return compute_priority(
        danger_now=danger, forms=forms, perpetrator=perpetrator, frequency=frequency
    )


@pytest.mark.parametrize(
    ("priority", "expected"),
    [
        (lambda: p(ViolenceForm.verbal, danger=True), Priority.critical),
        (lambda: p(danger=True, perpetrator=None, frequency=None), Priority.critical),
        (lambda: p(ViolenceForm.sexual), Priority.high),
        (lambda: p(ViolenceForm.home), Priority.high),
        (lambda: p(ViolenceForm.adult_at_school), Priority.high),
        (lambda: p(ViolenceForm.verbal, perpetrator=Perpetrator.school_staff), Priority.high),
        (lambda: p(ViolenceForm.exclusion, perpetrator=Perpetrator.family), Priority.high),
        (lambda: p(ViolenceForm.physical), Priority.normal),
        (lambda: p(ViolenceForm.physical, frequency=Frequency.few_times), Priority.high),
        (lambda: p(ViolenceForm.bullying, frequency=Frequency.few_times), Priority.normal),
        (lambda: p(ViolenceForm.cyberbullying, frequency=Frequency.daily), Priority.high),
        (lambda: p(ViolenceForm.verbal), Priority.low),
        (lambda: p(ViolenceForm.exclusion), Priority.low),
        (lambda: p(ViolenceForm.verbal, frequency=Frequency.daily), Priority.normal),
        (lambda: p(ViolenceForm.verbal, ViolenceForm.physical), Priority.normal),
        (lambda: p(ViolenceForm.other), Priority.normal),
        (lambda: p(perpetrator=Perpetrator.unknown), Priority.normal),
    ],
)
def test_priority_rule(priority, expected):
    assert priority() == expected
