"""The demo university: catalogue, users, sources and six weeks of posts (see `servicepulse.demo.generator`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from servicepulse.accounts.roles import Role
from servicepulse.accounts.services import user_create
from servicepulse.catalog.services import catalog_load

DEMO_USERS: list[tuple[str, str, Role]] = [
    ("admin", "demo-admin", Role.ADMIN),
    ("responder", "demo-responder", Role.RESPONDER),
    ("viewer", "demo-viewer", Role.VIEWER),
]


@dataclass
class DemoSummary:
    services: int = 0
    mentions: int = 0
    logins: list[tuple[str, str, str]] = field(default_factory=list)


def demo_logins() -> list[tuple[str, str, str]]:
    return [(username, password, role.label) for username, password, role in DEMO_USERS]


@transaction.atomic
def demo_users_create() -> None:
    for username, password, role in DEMO_USERS:
        user_create(username=username, password=password, role=role, email=f"{username}@demo.invalid")


def demo_load() -> DemoSummary:
    """Load the demo into the database: catalogue, users (one per role), sources and posts."""
    from servicepulse.demo.catalog import DEMO_CATALOG

    demo_users_create()
    services = catalog_load(data=DEMO_CATALOG)
    return DemoSummary(services=len(services), logins=demo_logins())
