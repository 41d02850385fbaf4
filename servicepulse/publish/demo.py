"""The demo's cross-posts: each published demo blog post has a copy on the demo Mastodon account, with likes
and boosts, and a few replies that came back (some approved under the post, one waiting for moderation).

Nothing is sent anywhere: the demo source has no access token, and the copies are recorded as sent. Loading
again adds nothing (copies are one per post and account; replies have fixed keys). The replies are comments
only, not mentions: the demo's listening data is the generator's alone.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from servicepulse.blog.models import Decision, Post, PostStatus
from servicepulse.blog.services import blog_demo_load, comment_from_elsewhere, comments_moderate
from servicepulse.publish.crosspost import post_summary
from servicepulse.publish.models import Backfeed, BackfeedKind, CrossPost, CrossPostState, CrossPostTarget
from servicepulse.publish.networks import NETWORKS, draft_text
from servicepulse.sources.models import Source

DEMO_ACCOUNT = "Northgate on Mastodon"
SERVER = "mastodon.ac.uk"
HANDLE = "northgateit"

# Replies to the copies, by demo post key: (handle@server, display name, text, approved?, hours after the copy).
REPLIES: dict[str, list[tuple[str, str, str, bool, int]]] = {
    "welcome": [
        (
            "dee_k@mastodon.ac.uk",
            "Dee K",
            "Good to see IT asking rather than guessing. Will you publish what you hear?",
            True,
            3,
        ),
    ],
    "wifi-hopkins": [
        (
            "tomasz@scholar.social",
            "Tomasz W",
            "Thanks for the write-up. Is the third floor of Hopkins included in the new access points?",
            True,
            2,
        ),
        (
            "ana_ng@mastodon.ac.uk",
            "Ana N",
            "The timeline of what you knew and when is really useful. More of this please.",
            True,
            6,
        ),
    ],
    "email-outage": [
        (
            "mo_r@fosstodon.org",
            "Mo R",
            "Appreciate the honesty. Did any mail actually get lost, or just delayed?",
            True,
            4,
        ),
    ],
    "vle-deadline": [
        (
            "priyas@mastodon.ac.uk",
            "Priya S",
            "Extending the deadline the same night made a real difference for our cohort. Thank you.",
            True,
            2,
        ),
        (
            "jbrooks@scholar.social",
            "J Brooks",
            "Will the upload fix be in place before the January submissions?",
            True,
            5,
        ),
        (
            "kit@mastodon.social",
            "Kit",
            "Could the status page say when an extension is agreed? We only found out from our tutor.",
            False,
            9,
        ),
    ],
}


def _copy_id(post: Post) -> str:
    return str(113_400_000_000_000_000 + post.pk * 1000)


@transaction.atomic
def publish_demo_load(*, end: datetime | None = None) -> int:
    """Copies of the demo blog posts on the demo Mastodon account with their reactions and backfed replies.
    Returns the number of copies created."""
    end = end or timezone.now()
    source = Source.objects.filter(name=DEMO_ACCOUNT, kind="mastodon").first()
    if source is None:
        return 0
    blog_demo_load(end=end)  # idempotent: the posts the copies are of
    target, _ = CrossPostTarget.objects.get_or_create(
        source=source, defaults={"network": "mastodon", "mode": CrossPostTarget.Mode.REVIEW}
    )
    rng = random.Random(20261126)  # noqa: S311 - demo figures, not security
    network = NETWORKS["mastodon"]
    created = 0
    posts = Post.objects.filter(import_key__startswith="demo:", status=PostStatus.PUBLISHED).order_by(
        "published_at"
    )
    approve: list[int] = []
    for post in posts:
        if post.published_at is None:
            continue
        key = post.import_key.removeprefix("demo:")
        sent_at = post.published_at + timedelta(minutes=2)
        remote_id = _copy_id(post)
        summary = post_summary(post)
        text = draft_text(network=network, title=summary.title, summary=summary.summary, link=summary.link)
        copy = CrossPost.objects.filter(post=post, target=target).first()
        if copy is None:
            copy = CrossPost.objects.create(
                post=post, target=target, source=source, network="mastodon", text=text, sent_text=text,
                state=CrossPostState.SENT, remote_id=remote_id, remote_url=f"https://{SERVER}/@{HANDLE}/{remote_id}",
                sent_at=sent_at, attempts=1, likes=rng.randint(8, 40), reposts=rng.randint(2, 15),
                replies=len(REPLIES.get(key, [])), counts_at=end,
            )  # fmt: skip
            created += 1
        for n, (acct, name, body, approved, hours) in enumerate(REPLIES.get(key, [])):
            handle, _, server = acct.partition("@")
            status_id = str(int(remote_id) + 1 + n)
            comment, new = comment_from_elsewhere(
                post=post,
                key=f"backfeed:demo:{status_id}",
                body=f"@{HANDLE}@{SERVER} {body}",
                author_name=name,
                author_url=f"https://{server}/@{handle}",
                source_url=f"https://{server}/@{handle}/{status_id}",
                created_at=min(sent_at + timedelta(hours=hours), end),
            )
            if new:
                # The demo's replies are not listening data (the demo's posts are the generator's), so they
                # come back without a mention.
                Backfeed.objects.create(
                    crosspost=copy, mention=None, comment=comment, kind=BackfeedKind.REPLY
                )
                if approved:
                    approve.append(comment.pk)
    if approve:
        comments_moderate(comment_ids=approve, decision=Decision.APPROVED, moderator=None)
    return created
