"""Fixtures shared by the engage tests."""

from __future__ import annotations

import pytest

from tests.engage.helpers import slack_source
from tests.factories import MentionFactory


@pytest.fixture
def slack_mention(db):  # type: ignore[no-untyped-def]
    return MentionFactory(
        source=slack_source(),
        external_id="C024BE91L:1795470100.000200",
        author="U061F7AUR",
        author_id="U061F7AUR",
        text="Is anyone else unable to log in to the staff portal? SSO just loops back to the login page",
    )
