"""Shared fixtures. Factories live in tests/factories.py; app-specific fixtures in each tests/<app>/conftest.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("SERVICEPULSE_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture
def shared_data() -> Path:
    """The labelled development data beside the project; tests using it skip, saying why, when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"development data not found at {SHARED_DATA} (set SERVICEPULSE_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture
def users(db):  # type: ignore[no-untyped-def]
    """One user per role: admin, responder, viewer (password 'pw')."""
    from servicepulse.accounts.roles import Role
    from servicepulse.accounts.services import user_create

    return {role.value: user_create(username=role.value, password="pw", role=role) for role in Role}
