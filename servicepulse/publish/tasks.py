from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from servicepulse.publish.services import digest_build, digest_email_send, digest_recipients, monday_of


@task()
def weekly_digest() -> int:
    """Build last week's digest and e-mail it; returns the number of topics."""
    today = timezone.localdate()
    digest = digest_build(week_start=monday_of(today) - timedelta(days=7))
    digest_email_send(digest=digest, recipients=digest_recipients())
    return len(digest.topics)
