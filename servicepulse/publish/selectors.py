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


# -- cross-posting -------------------------------------------------------------------------------------------


def crosspost_page(*, post: Any) -> dict[str, Any]:
    """A post's copies with their network's rules and current length, and the replies that came back."""
    from servicepulse.blog.models import Comment
    from servicepulse.publish.crosspost import targets_active
    from servicepulse.publish.models import Backfeed, CrossPost, CrossPostState
    from servicepulse.publish.networks import NETWORKS

    copies = list(CrossPost.objects.filter(post=post).select_related("source").order_by("network", "id"))
    rows = []
    for copy in copies:
        network = NETWORKS[copy.network]
        rows.append(
            {
                "copy": copy,
                "network": network,
                "length": network.length(copy.text),
                "over": network.length(copy.text) > network.limit,
                "editable": copy.state
                in (CrossPostState.DRAFT, CrossPostState.SCHEDULED, CrossPostState.FAILED),
            }
        )
    have = {c.target_id for c in copies}
    backfeeds = list(
        Backfeed.objects.filter(crosspost__post=post).select_related("comment", "crosspost", "mention")
        .order_by("comment__created_at", "id")
    )  # fmt: skip
    replies = {
        c.parent_id: c
        for c in Comment.objects.filter(parent_id__in=[b.comment_id for b in backfeeds if b.comment_id])
        .select_related("postback")
        .order_by("created_at")
    }  # the latest blog reply to each backfed comment
    return {
        "post": post,
        "rows": rows,
        "missing_targets": any(t.pk not in have for t in targets_active()),
        "backfeeds": [{"backfeed": b, "reply": replies.get(b.comment_id)} for b in backfeeds],
    }


def crosspost_accounts_page() -> dict[str, Any]:
    from servicepulse.publish.models import CrossPostTarget
    from servicepulse.publish.networks import NETWORKS, linkedin
    from servicepulse.sources.models import Source

    targets = {t.source_id: t for t in CrossPostTarget.objects.all()}
    accounts = [
        {"source": s, "target": targets.get(s.pk), "network": NETWORKS[s.kind]}
        for s in Source.objects.filter(kind__in=[k for k in NETWORKS if k != "linkedin"]).order_by(
            "kind", "name"
        )
    ]
    return {
        "accounts": accounts,
        "linkedin": {
            "configured": linkedin.configured(),
            "target": targets.get(None),
            "network": NETWORKS["linkedin"],
        },
    }


def crosspost_reactions(*, post: Any) -> list[Any]:
    """Sent copies of a post with their counts, for the blog post's page."""
    from servicepulse.publish.models import CrossPost, CrossPostState

    return list(CrossPost.objects.filter(post=post, state=CrossPostState.SENT).order_by("network", "id"))
