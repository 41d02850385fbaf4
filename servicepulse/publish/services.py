"""Writing digests (and, in `crosspost.py`, cross-posted copies)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone

from servicepulse.mentions.models import Mention
from servicepulse.publish.models import Digest, DigestFeedKey
from servicepulse.publish.topics import cluster_topics
from servicepulse.sources.models import Audience

ENGAGEMENT_KEYS = (
    "replies_count",
    "reblogs_count",
    "favourites_count",  # Mastodon statuses
    "replyCount",
    "repostCount",
    "likeCount",
    "quoteCount",  # Bluesky post views
    "num_comments",
    "score",  # Reddit
    "reply_count",
    "like_count",
    "retweet_count",
    "quote_count",  # X public_metrics
    "slash_comments",  # RSS slash:comments
)


def week_bounds(week_start: date) -> tuple[datetime, datetime]:
    zone = timezone.get_current_timezone()
    start = datetime.combine(week_start, time.min, tzinfo=zone)
    return start, start + timedelta(days=7)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _engagement(raw: Any) -> float:
    """How much a post was discussed elsewhere, from the counters platforms put in their payloads."""
    if not isinstance(raw, dict):
        return 0.0
    total = 0.0
    stack: list[Any] = [raw]
    depth = 0
    while stack and depth < 200:
        depth += 1
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if key in ENGAGEMENT_KEYS and isinstance(value, int | float) and value > 0:
                    total += float(value)
                elif isinstance(value, dict):
                    stack.append(value)
    return total


def _service_touches(texts: list[str]) -> list[str]:
    """Catalogue services the topic's posts name (through the analysis app's catalogue tagger)."""
    from servicepulse.analysis.ml.tagging import CatalogTagger
    from servicepulse.catalog.selectors import catalog_as_records

    records = catalog_as_records()
    if not records or not texts:
        return []
    tagger = CatalogTagger(records)
    counts: dict[str, int] = {}
    for tags in tagger.tag_texts(texts):
        for service_id, _confidence in tags[:1]:
            counts[service_id] = counts.get(service_id, 0) + 1
    # A service "touches" a topic when at least a third of its posts (and two or more) are about it.
    needed = max(2, -(-len(texts) // 3))
    return [sid for sid, n in sorted(counts.items(), key=lambda kv: -kv[1]) if n >= needed]


@transaction.atomic
def digest_build(*, week_start: date) -> Digest:
    """Build (or rebuild) the digest of the peer sources' posts in the week starting `week_start` (a Monday)."""
    from servicepulse.analysis.ml.encoder import embed

    week_start = monday_of(week_start)
    start, end = week_bounds(week_start)
    posts = list(
        Mention.objects.filter(source__audience=Audience.PEERS, created_at__gte=start, created_at__lt=end)
        .select_related("source")
        .order_by("created_at", "id")
    )
    replies: dict[tuple[int, str], int] = {}
    for post in posts:
        if post.in_reply_to:
            key = (post.source_id, post.in_reply_to)
            replies[key] = replies.get(key, 0) + 1
    discussion = [replies.get((p.source_id, p.external_id), 0) * 3 + _engagement(p.raw) for p in posts]
    texts = [p.text for p in posts]
    topics = []
    if texts:
        embeddings = embed(texts)
        for topic in cluster_topics(texts, embeddings, discussion=discussion):
            members = [texts[i] for i in topic.indices]
            topics.append(
                {
                    "name": topic.name,
                    "terms": topic.terms,
                    "size": topic.size,
                    "mention_ids": [posts[i].pk for i in topic.indices[:3]],
                    "service_ids": _service_touches(members),
                }
            )
    digest, _ = Digest.objects.update_or_create(
        week_start=week_start,
        defaults={"generated_at": timezone.now(), "post_count": len(posts), "topics": topics},
    )
    return digest


def digest_recipients() -> list[str]:
    return list(settings.SERVICEPULSE_DIGEST_RECIPIENTS or settings.SERVICEPULSE_REPORT_RECIPIENTS)


def digest_email_send(*, digest: Digest, recipients: list[str]) -> int:
    """E-mail the digest (HTML and plain text). Returns the number of messages sent."""
    from servicepulse.publish.selectors import digest_context

    if not recipients:
        return 0
    context = {**digest_context(digest=digest), "base_url": settings.BASE_URL}
    subject = f"What peers discussed, week of {digest.week_start:%d %B %Y}"
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("publish/digest_email.txt", context),
        to=recipients,
    )
    message.attach_alternative(render_to_string("publish/digest_email.html", context), "text/html")
    sent = message.send()
    Digest.objects.filter(pk=digest.pk).update(emailed_at=timezone.now())
    return sent


def digest_feed_renew(*, user_id: int) -> None:
    """Make a new private digest feed link for a person (a link leaked, a feed reader given up): every earlier
    link of theirs stops working."""
    key, _ = DigestFeedKey.objects.get_or_create(user_id=user_id)
    DigestFeedKey.objects.filter(pk=key.pk).update(generation=F("generation") + 1)
