from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Rate limits and refused deliveries are counted per address in the cache; each test starts from none."""
    from django.core.cache import cache

    cache.clear()
