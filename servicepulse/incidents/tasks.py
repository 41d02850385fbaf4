"""Background work of the incidents app. Thin: take ids, re-read, tolerate missing rows, call a service."""

from __future__ import annotations

from django_tasks import task

from servicepulse.incidents import services


@task()
def run_detection() -> str:
    """The scheduler's periodic detection: feeds each service's new complete buckets to its detector."""
    return str(services.run_detection())


@task()
def alert_deliver_task(delivery_id: int) -> str:
    delivery = services.alert_deliver(delivery_id=delivery_id)
    return "missing" if delivery is None else str(delivery.status)


@task()
def alerts_deliver_due() -> int:
    """Sends alerts whose quiet hours or back-off are over."""
    return services.alerts_deliver_due()


@task()
def maintenance_complete_due() -> int:
    """Completes the maintenance windows whose planned end has passed."""
    return len(services.maintenance_complete_due())
