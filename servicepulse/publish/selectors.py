"""Reads over digests."""

from __future__ import annotations

from typing import Any

from servicepulse.catalog.models import Service
from servicepulse.mentions.models import Mention
from servicepulse.publish.models import Digest


def digest_latest() -> Digest | None:
    return Digest.objects.order_by("-week_start").first()


def digest_list(*, limit: int = 12) -> list[Digest]:
    return list(Digest.objects.order_by("-week_start")[:limit])


def digest_context(*, digest: Digest) -> dict[str, Any]:
    """The digest with its example posts and service names resolved (two queries)."""
    ids = [i for topic in digest.topics for i in topic.get("mention_ids", [])]
    mentions = Mention.objects.in_bulk(ids)
    service_ids = {s for topic in digest.topics for s in topic.get("service_ids", [])}
    names = dict(Service.objects.filter(id__in=service_ids).values_list("id", "name"))
    topics = [
        {
            **topic,
            "examples": [mentions[i] for i in topic.get("mention_ids", []) if i in mentions],
            "services": [(s, names.get(s, s)) for s in topic.get("service_ids", [])],
        }
        for topic in digest.topics
    ]
    return {"digest": digest, "topics": topics}
