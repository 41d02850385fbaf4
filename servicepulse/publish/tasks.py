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


# -- cross-posting and backfeed ------------------------------------------------------------------------------


@task()
def crosspost_send_task(crosspost_id: int) -> str:
    from servicepulse.publish.crosspost import crosspost_send

    copy = crosspost_send(crosspost_id=crosspost_id)
    return copy.state if copy else "gone"


@task()
def crosspost_update_task(crosspost_id: int) -> str:
    from servicepulse.publish.crosspost import crosspost_update_remote

    copy = crosspost_update_remote(crosspost_id=crosspost_id)
    return copy.state if copy else "gone"


@task()
def crosspost_delete_task(crosspost_id: int) -> str:
    from servicepulse.publish.crosspost import crosspost_delete_remote

    copy = crosspost_delete_remote(crosspost_id=crosspost_id)
    return copy.state if copy else "gone"


@task()
def crossposts_send_due_task() -> int:
    from servicepulse.publish.crosspost import crossposts_send_due

    return len(crossposts_send_due())


@task()
def crosspost_counts_task() -> int:
    from servicepulse.publish.crosspost import crosspost_counts_refresh

    return crosspost_counts_refresh()


@task()
def backfeed_scan_task(source_id: int) -> int:
    from servicepulse.publish.backfeed import backfeed_scan
    from servicepulse.sources.models import Source

    source = Source.objects.filter(pk=source_id).first()
    return backfeed_scan(source=source) if source else 0


@task()
def backfeed_scan_all_task() -> int:
    from servicepulse.publish.backfeed import backfeed_scan, sources_with_copies
    from servicepulse.sources.models import Source

    return sum(backfeed_scan(source=s) for s in Source.objects.filter(pk__in=sources_with_copies()))


@task()
def postback_send_task(postback_id: int) -> str:
    from servicepulse.publish.backfeed import postback_send

    postback = postback_send(postback_id=postback_id)
    return postback.state if postback else "gone"
