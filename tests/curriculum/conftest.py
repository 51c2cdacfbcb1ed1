from __future__ import annotations

import pytest

from tests.curriculum.factories import load_real_content


@pytest.fixture
def content(app):
    """The real content files, stored as the loader stores them."""
    load_real_content()
