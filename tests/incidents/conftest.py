"""Fixtures of the incidents tests: fast receipt hashes and no wrong-code delay."""

from __future__ import annotations

import pytest

import incidents.intake.receipts

# Fast hashes in tests; production keeps RFC 9106's parameters (see incidents.intake.receipts).
incidents.intake.receipts.ARGON2 = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}


@pytest.fixture(autouse=True)
def _no_wrong_code_delay(app):
    app.config["RECEIPT_DELAY_UNIT"] = 0.0


@pytest.fixture
def english(client):
    """Requests of the test client prefer English (the default would be Kazakh); a test that
    switches the language with /lang/<code> still gets the chosen one."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
