"""Cross-posting fixtures: a published-post helper and a runner for the publish app's queued tasks."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import TestCase

NETWORK_FIXTURES = Path(__file__).resolve().parents[2] / "servicepulse" / "publish" / "networks" / "fixtures"


def fixture(name: str) -> Any:
    return json.loads((NETWORK_FIXTURES / name).read_text())


@pytest.fixture
def run_publish_tasks(db) -> Callable[[], list[str]]:  # type: ignore[no-untyped-def]
    """Run the publish app's ready tasks (and those they enqueue) as the database worker would; returns what
    each returned. Commit hooks run as if each task's transaction committed."""
    from django_tasks_db.models import DBTaskResult

    def run() -> list[str]:
        results = []
        for _ in range(50):
            row = (
                DBTaskResult.objects.ready()
                .filter(task_path__startswith="servicepulse.publish.")
                .order_by("id")
                .first()
            )
            if row is None:
                return results
            row.delete()
            with TestCase.captureOnCommitCallbacks(execute=True):
                results.append(row.task.call(*row.args_kwargs["args"], **row.args_kwargs["kwargs"]))
        raise AssertionError("publish tasks keep enqueueing each other")

    return run
