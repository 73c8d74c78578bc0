"""Fixtures shared by the respondent tests."""
from __future__ import annotations

import pytest

from tests.conftest import ALL_TYPES_SURVEY


@pytest.fixture
def all_types(make_survey) -> int:
    """The survey with every question type, loaded; its id."""
    return make_survey(ALL_TYPES_SURVEY)
