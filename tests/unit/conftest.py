"""Fixtures shared by the pure-core tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from examsvc.plans.admission_ticket import FontMissing, find_cjk_font


@pytest.fixture(scope="session")
def font() -> Path:
    """The CJK font tickets and sheets are drawn with; missing fails (CI installs it), never skips."""
    try:
        return find_cjk_font(os.environ.get("EXAMSVC_CJK_FONT"))
    except FontMissing as exc:
        pytest.fail(str(exc), pytrace=False)
