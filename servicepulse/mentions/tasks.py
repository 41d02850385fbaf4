from __future__ import annotations

from django_tasks import task

from servicepulse.mentions.services import mentions_apply_retention


@task()
def apply_retention() -> int:
    return mentions_apply_retention()
