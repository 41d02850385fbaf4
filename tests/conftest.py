"""Shared fixtures. Factories live in tests/factories.py; app-specific fixtures in each tests/<app>/conftest.py."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.management.sql import emit_post_migrate_signal
from django.db import connections, transaction
from django.test import Client, TransactionTestCase
from freezegun import freeze_time

from tests.mailsink import MailSink

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("SERVICEPULSE_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


def _empty_the_tables(self: TransactionTestCase) -> None:
    """After a transactional test on PostgreSQL: every table emptied with DELETE in one transaction, then
    post_migrate sent, as `flush` does. Flush's TRUNCATE gives each of the ~70 tables and their indexes new
    files and took 0.3-0.9 s after every such test, whatever the tables held; DELETE of a test's few rows
    takes a few milliseconds. The foreign keys Django creates on PostgreSQL are checked at commit, so the
    order does not matter."""
    for alias in self._databases_names(include_mirrors=False):
        connection = connections[alias]
        tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
        with transaction.atomic(using=alias), connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")  # noqa: S608 - Django's tables
        serialized = self.serialized_rollback and hasattr(connection, "_test_serialized_contents")
        if self.available_apps is None and not serialized:
            emit_post_migrate_signal(verbosity=0, interactive=False, db=alias)


if os.environ.get("DATABASE_URL", "").startswith("postgres"):
    TransactionTestCase._fixture_teardown = _empty_the_tables  # type: ignore[method-assign]


# Fixtures through which a test reaches the database (pytest-django's, and any fixture built on them: a test's
# fixture closure lists them too).
_DATABASE_FIXTURES = {
    "db",
    "transactional_db",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
    "live_server",
}


def _reaches_the_database(item: pytest.Item) -> bool:
    """Through pytest-django. A test that runs servicepulse as a process on the test database is marked
    django_db(transaction=True) too (the process must see what the test committed); one that starts it on
    a database of its own, or on none, does not reach the test database."""
    if item.get_closest_marker("django_db") or item.get_closest_marker("postgres"):
        return True
    return bool(_DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The PostgreSQL pass of `make test` (DATABASE_URL is a postgres:// one) runs only the tests that reach
    the database: the others (the models' arithmetic, parsers, the detector's statistics) ran in the SQLite
    pass and would only repeat it, as would the long end-to-end tests marked `once` (faster tests repeat
    their database work there).

    Tests marked `serial` run only after the PostgreSQL pass (the SQLite pass has none), so each must be marked
    `postgres` too: a serial test for SQLite would never run."""
    lone = [
        item.nodeid
        for item in items
        if item.get_closest_marker("serial") and not item.get_closest_marker("postgres")
    ]
    if lone:
        raise pytest.UsageError(
            f"serial tests run only on PostgreSQL; mark these postgres too: {', '.join(lone)}"
        )
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        return
    kept, left = [], []
    for item in items:
        again = _reaches_the_database(item) and not item.get_closest_marker("once")
        (kept if again else left).append(item)
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = kept


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Each test starts with an empty cache: the test settings' in-memory cache lives as long as the worker
    process, and what one test's pages cached (a list of languages, themes, rate-limit counters) would answer
    the next test's."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def shared_data() -> Path:
    """The labelled development data beside the project; tests using it skip, saying why, when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"development data not found at {SHARED_DATA} (set SERVICEPULSE_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture
def rate_limit_window() -> Iterator[None]:
    """A test's clock started just after a whole minute, for tests that spend a rate limit and expect the next
    request refused. The limits count in fixed windows of the clock (core/ratelimit.py: `time // per`, so every
    window of 60, 600 or 3600 seconds starts on a whole minute), and a window that ended between two of the
    test's requests gave it a fresh budget: the request expected refused was let through. The clock starts
    0.1 s into the next minute (under a minute ahead of the real one) and runs on, so no window ends for a
    minute."""
    now = time.time()
    with freeze_time(datetime.fromtimestamp(now - now % 60 + 60.1, tz=UTC), tick=True):
        yield


@pytest.fixture
def users(db):  # type: ignore[no-untyped-def]
    """One user per role: admin, responder, viewer (password 'pw')."""
    from servicepulse.accounts.roles import Role
    from servicepulse.accounts.services import user_create

    return {role.value: user_create(username=role.value, password="pw", role=role) for role in Role}


@pytest.fixture
def clients(users: dict[str, Any]) -> dict[str, Client]:
    """A Django test client per role, already signed in, plus an anonymous one."""
    result = {"anonymous": Client()}
    for role, user in users.items():
        client = Client()
        client.force_login(user)
        result[role] = client
    return result


@pytest.fixture
def immediate_tasks(settings):  # type: ignore[no-untyped-def]
    """Run django_tasks in-process when enqueued (still only after commit)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def smtp(settings) -> Iterator[MailSink]:  # type: ignore[no-untyped-def]
    """A real SMTP server on 127.0.0.1; Django's SMTP backend pointed at it."""
    with MailSink() as sink:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = sink.port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        settings.BASE_URL = "http://testserver"
        yield sink
