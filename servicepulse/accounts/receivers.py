"""Signal receivers of the accounts app (connected in apps.py)."""

from __future__ import annotations

from typing import Any

from django.db import DEFAULT_DB_ALIAS, router


def site_sync_after_migrate(*, using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    from django.contrib.sites.models import Site

    from servicepulse.accounts.services import site_sync

    if router.allow_migrate_model(using, Site):
        site_sync(using=using)
