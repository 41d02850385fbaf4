"""Reads about the running system: health, queue depth, workers."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from servicepulse.core.models import Lease, WorkerHeartbeat

HEARTBEAT_FRESH = timedelta(seconds=90)
logger = logging.getLogger(__name__)


def queue_depth() -> int | None:
    """Tasks waiting to run, for the database backend (None when another backend holds the queue)."""
    if settings.TASK_BACKEND != "database":
        return None
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.ready().count()


def lease_holder(*, name: str, now: datetime | None = None) -> Lease | None:
    """The lease `name` while someone holds it; None when it is free or has expired."""
    now = now or timezone.now()
    return Lease.objects.filter(name=name, expires_at__gt=now).exclude(holder="").first()


def redis_urls() -> list[str]:
    """The Redis servers this deployment needs: the cache's (rate limits) and, with RQ, the queue's."""
    urls = []
    cache: dict[str, Any] = settings.CACHES.get("default", {})
    if cache.get("BACKEND", "").endswith("RedisCache") and cache.get("LOCATION"):
        urls.append(str(cache["LOCATION"]))
    if settings.TASK_BACKEND == "rq":
        urls.extend(str(q["URL"]) for q in getattr(settings, "RQ_QUEUES", {}).values() if q.get("URL"))
    return list(dict.fromkeys(urls))


def _redis_answers(url: str) -> bool:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError as exc:
        # Public probe: the address and the error go to the log only.
        logger.error("health: Redis did not answer: %s", exc)
        return False
    finally:
        client.close()


def health() -> dict[str, Any]:
    """What /health/ reports: ok when the database (and Redis, when the deployment uses it) answers and a
    worker has beaten its heart recently."""
    report: dict[str, Any] = {"version": settings.VERSION, "database": "ok", "worker": "missing"}
    urls = redis_urls()
    if urls:
        # Without it nothing can be queued (RQ) and every rate-limited page fails (the cache).
        report["redis"] = "ok" if all(_redis_answers(url) for url in urls) else "error"
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        latest = (
            WorkerHeartbeat.objects.filter(kind=WorkerHeartbeat.Kind.WORKER).order_by("-last_beat_at").first()
        )
        report["queue_depth"] = queue_depth()
    except DatabaseError as exc:
        # /health/ is public: the failure's detail (server address, role, database name) goes to the log only.
        logger.error("health: the database did not answer: %s", exc)
        report.update(database="error", status="error", queue_depth=None)
        return report
    if latest is not None:
        age = timezone.now() - latest.last_beat_at
        report["worker"] = "ok" if age <= HEARTBEAT_FRESH else "stale"
        report["worker_last_beat_seconds"] = int(age.total_seconds())
    if report.get("redis") == "error":
        report["status"] = "error"
    else:
        report["status"] = "ok" if report["worker"] == "ok" else "degraded"
    return report
