"""Background work for engage. Thin: take ids, re-read rows, tolerate them being gone, call a service."""

from __future__ import annotations

from django_tasks import task

from servicepulse.engage.services import loop_deliver, loop_deliver_due, you_said_we_did_draft
from servicepulse.status.models import PublicIncident


@task()
def loop_deliver_task(incident_id: int, incident_status: str) -> dict[str, int]:
    """Send the closed loop's pending replies for one public incident status."""
    if not PublicIncident.objects.filter(pk=incident_id).exists():
        return {"sent": 0}
    result = loop_deliver(incident_id=incident_id, incident_status=incident_status)
    return {"sent": result.sent, "failed": result.failed, "deferred": result.deferred}


@task()
def loop_deliver_due_task() -> int:
    """The periodic sweep: send closed-loop replies that waited for a rate limit."""
    return loop_deliver_due()


@task()
def you_said_we_did_task() -> int:
    """The weekly job: create the "You said, we did" draft for the week just ended."""
    post, _ = you_said_we_did_draft()
    return int(post.pk)
