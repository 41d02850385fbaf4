"""Reads over digests."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core import signing

from servicepulse.catalog.models import Service
from servicepulse.mentions.models import Mention
from servicepulse.publish.models import Digest, DigestFeedKey

if TYPE_CHECKING:
    from servicepulse.publish.forms import CrossPostTargetForm


FEED_SALT = "servicepulse.publish.digest-feed"


def digest_feed_generation(*, user_id: int) -> int:
    key = DigestFeedKey.objects.filter(user_id=user_id).values_list("generation", flat=True).first()
    return key or 0


def digest_feed_token(*, user_id: int) -> str:
    """The token of a person's private digest feed link: their id and the link's generation, signed."""
    return signing.dumps([user_id, digest_feed_generation(user_id=user_id)], salt=FEED_SALT)


def digest_feed_user(*, token: str) -> AbstractBaseUser | None:
    """The person whose current feed link carries `token`; None for a forged token or one from a link made
    before their newest. (A token of the first links signed the id alone: it is generation 0.)"""
    try:
        signed = signing.loads(token, salt=FEED_SALT)
    except signing.BadSignature:
        return None
    if isinstance(signed, int):
        user_id, generation = signed, 0
    elif isinstance(signed, list) and len(signed) == 2:
        user_id, generation = signed
    else:
        return None
    if generation != digest_feed_generation(user_id=user_id):
        return None
    return get_user_model().objects.filter(pk=user_id).first()


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


def crosspost_page(
    *, post: Any, refused_text: dict[int, tuple[str, str]] | None = None,
    typed_send_at: dict[int, str] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """A post's copies with their network's rules and current length, and the replies that came back.
    `refused_text` maps a copy's id to (text, reason) for a text just refused: shown as typed, with why;
    `typed_send_at` the send time typed with it, shown again."""
    from servicepulse.blog.models import Comment
    from servicepulse.publish.crosspost import copy_text, targets_active
    from servicepulse.publish.models import Backfeed, CrossPost, CrossPostState
    from servicepulse.publish.networks import NETWORKS

    copies = list(CrossPost.objects.filter(post=post).select_related("source").order_by("network", "id"))
    rows = []
    for copy in copies:
        network = NETWORKS[copy.network]
        text, text_error = (refused_text or {}).get(copy.pk, (copy.text, ""))
        rows.append(
            {
                "copy": copy,
                "network": network,
                "text": text,
                "text_error": text_error,
                "send_at": (typed_send_at or {}).get(copy.pk, ""),
                "length": network.length(copy_text(text)),
                "over": network.length(copy_text(text)) > network.limit,
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
        "backfeeds": [
            {
                "backfeed": b,
                "reply": replies.get(b.comment_id),
                "network": NETWORKS[b.crosspost.network].label,
            }
            for b in backfeeds
        ],
    }


def crosspost_accounts_page(*, form: CrossPostTargetForm | None = None) -> dict[str, Any]:
    """Every account that can cross-post with its setting. `form`: a refused submission, shown again on its
    row (`form_row`, None when it names no account) with its errors."""
    from servicepulse.publish.models import CrossPostTarget
    from servicepulse.publish.networks import NETWORKS, linkedin
    from servicepulse.sources.models import Source

    def row(target: CrossPostTarget | None, **fields: Any) -> dict[str, Any]:
        values = {
            "enabled": bool(target and target.enabled),
            "mode": target.mode if target else CrossPostTarget.Mode.REVIEW,
            "subreddit": (target.options.get("subreddit") or "") if target else "",
        }
        return {"target": target, "values": values, "errors": [], "subreddit_errors": [], **fields}

    targets = {t.source_id: t for t in CrossPostTarget.objects.all()}
    accounts = [
        row(targets.get(s.pk), source=s, network=NETWORKS[s.kind])
        for s in Source.objects.filter(kind__in=[k for k in NETWORKS if k != "linkedin"]).order_by(
            "kind", "name"
        )
    ]
    linkedin_row = row(targets.get(None), configured=linkedin.configured(), network=NETWORKS["linkedin"])
    form_row = None
    key = form.row_key() if form is not None else None
    if form is not None and key is not None:
        rows = {**{a["source"].pk: a for a in accounts}, "linkedin": linkedin_row}
        form_row = rows.get(key)
    if form is not None and form_row is not None:
        form_row["values"] = form.shown_values()
        form_row["subreddit_errors"] = list(form.errors.get("subreddit", []))
        form_row["errors"] = [
            str(error) for name, errors in form.errors.items() if name != "subreddit" for error in errors
        ]
    return {"accounts": accounts, "linkedin": linkedin_row, "form_row": form_row}


def crosspost_reactions(*, post: Any) -> list[Any]:
    """Sent copies of a post with their counts, for the blog post's page."""
    from servicepulse.publish.models import CrossPost, CrossPostState

    return list(CrossPost.objects.filter(post=post, state=CrossPostState.SENT).order_by("network", "id"))
