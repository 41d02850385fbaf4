"""Cross-posting the leader's blog posts: drafting a short form per enabled account, sending it through the
network's client library, recording the copy, and following the blog post's edits and withdrawal.

`crosspost_transition` is the only function that changes a copy's state. A failed copy never touches the
blog post: its error (the network's own) is kept and the copy can be retried. A 429 keeps it scheduled
for the network's Retry-After.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.html import strip_tags

from servicepulse.blog.models import Post
from servicepulse.core.times import local_time_text
from servicepulse.publish.models import CrossPost, CrossPostState, CrossPostTarget
from servicepulse.publish.networks import NETWORKS, Network, draft_text, shorten
from servicepulse.sources.models import Source
from servicepulse.sources.registry import ConnectorError, OutcomeUnknown, SendKey

S = CrossPostState
# Which state may follow which. SCHEDULED -> SCHEDULED is a rate-limited copy waiting for its next try;
# SENT -> SENT an edit of the remote copy.
TRANSITIONS: dict[str, set[str]] = {
    S.DRAFT: {S.SCHEDULED, S.DELETED, S.DRAFT},
    S.SCHEDULED: {S.SENT, S.FAILED, S.SCHEDULED, S.DRAFT, S.DELETED},
    S.FAILED: {S.SCHEDULED, S.DELETED, S.DRAFT, S.FAILED},
    S.SENT: {S.SENT, S.DELETED},
    S.DELETED: {S.DRAFT},  # the post was published again: the copy is drafted anew
}
MAX_RATE_LIMITED_TRIES = 5
# A copy whose sending got no answer (a timeout) is tried again after this times its attempts: safe, because
# every try of one sending carries the same key (see `send_key`).
UNKNOWN_OUTCOME_WAIT = timedelta(minutes=1)
SUMMARY_LENGTH = 600  # characters of the post a copy may quote
PAST_GRACE = timedelta(minutes=1)  # a send time typed to the minute may be this far behind the clock
# How long a worker holds a copy it is sending (well beyond the clients' timeouts); a worker that dies holding
# one leaves it to the safety net once this has passed.
SENDING_LEASE = timedelta(minutes=5)
FRESH_FOR = timedelta(days=2)  # a post published longer ago than this (imports, the demo) is not cross-posted


class InvalidTransition(ValueError):
    pass


class TargetError(ValueError):
    """An account setting that cannot be saved (it could only fail when a post is sent); `field` names the
    setting at fault ("subreddit", "mode"), None the account itself."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class CrossPostTextError(ValueError):
    """A copy's text the network would refuse: empty, or longer than its limit."""


# Reddit's rule for subreddit names: 3 to 21 letters, digits and underscores.
SUBREDDIT_RE = re.compile(r"[A-Za-z0-9_]{3,21}", re.ASCII)


@dataclass(frozen=True)
class PostSummary:
    title: str
    summary: str
    link: str


def post_summary(post: Post) -> PostSummary:
    """Title, a plain-text summary (the excerpt, else the start of the body, cut after a whole word) and the
    post's absolute URL."""
    # The rendered body is HTML: its entities ("Q&amp;A") are read back as the characters they stand for.
    text = post.excerpt.strip() or html.unescape(strip_tags(post.body_html or post.body_markdown))
    summary = shorten(" ".join(text.split()), SUMMARY_LENGTH)
    return PostSummary(
        title=post.title, summary=summary, link=f"{settings.BASE_URL}{post.get_absolute_url()}"
    )


def network_of(crosspost: CrossPost) -> Network:
    return NETWORKS[crosspost.network]


# -- accounts ----------------------------------------------------------------------------------------------


def subreddit_name(value: str) -> str:
    """A subreddit as people write it ("r/northfield", "/r/northfield" or "northfield") -> its name; empty
    stays empty. TargetError when it cannot be a subreddit's name."""
    name = value.strip()
    name = re.sub(r"^/?r/", "", name, flags=re.IGNORECASE)
    if name and not SUBREDDIT_RE.fullmatch(name):
        raise TargetError(
            "a subreddit name is 3 to 21 letters, digits or underscores (r/ in front is fine)",
            field="subreddit",
        )
    return name


def _target_options(network: str, options: dict[str, Any]) -> dict[str, Any]:
    """The options as stored: Reddit's subreddit checked and bare (an empty one removed)."""
    cleaned = dict(options)
    if network == "reddit" and "subreddit" in cleaned:
        name = subreddit_name(str(cleaned.pop("subreddit") or ""))
        if name:
            cleaned["subreddit"] = name
    return cleaned


def target_set(
    *, network: str, source: Source | None, enabled: bool = True, mode: str = CrossPostTarget.Mode.REVIEW,
    options: dict[str, Any] | None = None,
) -> CrossPostTarget:  # fmt: skip
    """Enable (or change, or disable) cross-posting on an account: a source of a network that can post, or
    LinkedIn's organisation page (no source). `options` (None: keep them) replace the account's options; a
    Reddit account needs a subreddit to be enabled, and an empty one clears it. Raises TargetError for a
    setting that could only fail later, when a post is sent."""
    if network not in NETWORKS:
        raise TargetError(f"{network!r} cannot be cross-posted to; networks: {', '.join(NETWORKS)}")
    if source is not None and source.kind != network:
        raise TargetError(f"source {source.name} is a {source.kind} source, not {network}")
    if source is None and network != "linkedin":
        raise TargetError(f"a {network} cross-post needs a connected {network} source")
    if mode not in CrossPostTarget.Mode.values:
        raise TargetError(f"mode must be one of {', '.join(CrossPostTarget.Mode.values)}", field="mode")
    lookup = {"source": source} if source is not None else {"network": network, "source__isnull": True}
    target = CrossPostTarget.objects.filter(**lookup).first() or CrossPostTarget(
        network=network, source=source
    )
    target.enabled = enabled
    target.mode = CrossPostTarget.Mode(mode)
    if options is not None:
        target.options = _target_options(network, options)
    if target.enabled and network == "reddit" and not target.options.get("subreddit"):
        raise TargetError(
            "a Reddit account posts to a subreddit: give one before enabling it", field="subreddit"
        )
    target.save()
    return target


def targets_active() -> list[CrossPostTarget]:
    from servicepulse.publish.networks import linkedin

    targets = []
    for target in CrossPostTarget.objects.select_related("source").filter(enabled=True):
        if target.network not in NETWORKS:
            continue
        if target.source is not None and not target.source.enabled:
            continue
        if target.source is None and not (target.network == "linkedin" and linkedin.configured()):
            continue
        targets.append(target)
    return targets


# -- state ---------------------------------------------------------------------------------------------------


def crosspost_transition(*, crosspost: CrossPost, to: str, **fields: Any) -> CrossPost:
    """Move a copy to state `to`, setting `fields` in the same save. The only writer of `state`."""
    to = CrossPostState(to)
    if to not in TRANSITIONS[crosspost.state]:
        raise InvalidTransition(f"a {crosspost.state} copy cannot become {to}")
    crosspost.state = to
    for name, value in fields.items():
        setattr(crosspost, name, value)
    crosspost.save(update_fields=["state", *fields])
    return crosspost


def _enqueue(task_name: str, crosspost_id: int, *, at: datetime | None = None) -> None:
    from servicepulse.publish import tasks

    task = getattr(tasks, task_name)
    if at is not None and at > timezone.now():
        transaction.on_commit(lambda: task.using(run_after=at).enqueue(crosspost_id))
    else:
        transaction.on_commit(lambda: task.enqueue(crosspost_id))


# -- drafting and sending ------------------------------------------------------------------------------------


@transaction.atomic
def crossposts_draft(*, post: Post) -> list[CrossPost]:
    """A draft copy of a published post for every enabled account that has none yet; accounts set to send
    automatically are scheduled at once. Returns the new copies."""
    if not post.is_published:
        return []
    summary = post_summary(post)
    have = {c.target_id: c for c in CrossPost.objects.filter(post=post)}
    created = []
    for target in targets_active():
        network = NETWORKS[target.network]
        text = draft_text(network=network, title=summary.title, summary=summary.summary, link=summary.link)
        copy = have.get(target.pk)
        if copy is not None and copy.state != S.DELETED:
            continue
        if copy is not None:  # unpublished (its copy deleted) and now published again
            crosspost_transition(
                crosspost=copy, to=S.DRAFT, text=text, text_edited=False, remote_id="", remote_url="",
                remote_extra={}, sent_text="", error="", note="", attempts=0, sent_at=None, deleted_at=None,
                likes=0, reposts=0, replies=0, quotes=0, counts_at=None, claimed_until=None,
                first_tried_at=None, redrafts=copy.redrafts + 1,
            )  # fmt: skip
        else:
            copy = CrossPost.objects.create(
                post=post, target=target, source=target.source, network=target.network, text=text
            )
        if target.mode == CrossPostTarget.Mode.AUTO:
            crosspost_schedule(crosspost=copy)
        created.append(copy)
    return created


def text_problem(*, network: Network, text: str) -> str | None:
    """Why the network would refuse this text (empty, or over its limit as it counts), else None."""
    if not text.strip():
        return f"the text for {network.label} is empty"
    length = network.length(text)
    if length > network.limit:
        return f"{network.label} takes at most {network.limit} {network.unit}; this text has {length}"
    return None


def copy_text(text: str) -> str:
    """A copy's text as stored and sent: line breaks as "\\n" (browsers send a textarea's as "\\r\\n", which
    would count twice and differ from the draft), without surrounding blanks."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def crosspost_edit_text(*, crosspost: CrossPost, text: str) -> CrossPost:
    """The leader's own wording for one network (before sending, or before a retry). CrossPostTextError when
    the network would refuse it (empty, or over its limit)."""
    if crosspost.state not in {S.DRAFT, S.SCHEDULED, S.FAILED}:
        raise InvalidTransition("only a copy not yet sent can be reworded here")
    text = copy_text(text)
    problem = text_problem(network=network_of(crosspost), text=text)
    if problem:
        raise CrossPostTextError(problem)
    crosspost.text = text
    crosspost.text_edited = True
    crosspost.save(update_fields=["text", "text_edited"])
    return crosspost


def crosspost_schedule(*, crosspost: CrossPost, at: datetime | None = None) -> CrossPost:
    """Send now (on commit) or at `at`; also how a failed copy is retried. A time already past is refused
    (a mistyped date would otherwise send at once)."""
    if at is not None and (at.tzinfo is None or at.utcoffset() is None):
        raise ValueError("send time has no time zone")
    if at is not None and at < timezone.now() - PAST_GRACE:
        raise ValueError(f"{local_time_text(at)} has already passed: give a later time, or use Send now")
    when = at or timezone.now()
    crosspost_transition(crosspost=crosspost, to=S.SCHEDULED, send_at=when, error="")
    _enqueue("crosspost_send_task", crosspost.pk, at=when)
    return crosspost


def crosspost_discard(*, crosspost: CrossPost) -> CrossPost:
    """Drop a copy not yet sent. A sent copy is not discarded here (it would stay on the network while shown
    as deleted): unpublishing the post deletes it there."""
    if crosspost.state not in {S.DRAFT, S.SCHEDULED, S.FAILED}:
        raise InvalidTransition(
            f"this copy is already {crosspost.get_state_display().lower()}: only a copy not yet sent is "
            "discarded (unpublish the post to delete its sent copies)"
        )
    return crosspost_transition(crosspost=crosspost, to=S.DELETED, deleted_at=timezone.now())


def crosspost_retry(*, crosspost: CrossPost) -> CrossPost:
    if crosspost.state != S.FAILED:
        raise InvalidTransition("only a failed copy is retried")
    return crosspost_schedule(crosspost=crosspost)


def crossposts_send_due(*, now: datetime | None = None) -> list[int]:
    """Ids of scheduled copies whose time has come (the periodic safety net behind the enqueued tasks)."""
    now = now or timezone.now()
    # Only copies whose own task is overdue by minutes (lost with a restarted worker) and that no worker is
    # sending at this moment.
    stale = now - timedelta(minutes=2)
    ids = list(
        CrossPost.objects.filter(state=S.SCHEDULED, send_at__lte=stale)
        .exclude(claimed_until__gt=timezone.now())
        .values_list("id", flat=True)
    )
    for crosspost_id in ids:
        crosspost_send(crosspost_id=crosspost_id)
    return ids


def crosspost_send(*, crosspost_id: int) -> CrossPost | None:
    """Send one scheduled copy through its network. Tolerates the copy being gone, sent or not yet due."""
    copy = CrossPost.objects.select_related("source", "target", "post").filter(pk=crosspost_id).first()
    if copy is None or copy.state != S.SCHEDULED or copy.post is None:
        return copy
    if copy.send_at and copy.send_at > timezone.now() + timedelta(seconds=1):
        return copy
    # Claim it: of two workers holding tasks for the same copy (a double "Send now", the safety net beside a
    # late task), only one moves `attempts` on, and none takes it while another is still sending it.
    now = timezone.now()
    claimed = (
        CrossPost.objects.filter(pk=copy.pk, state=S.SCHEDULED, attempts=copy.attempts)
        .exclude(claimed_until__gt=now)
        .update(attempts=copy.attempts + 1, claimed_until=now + SENDING_LEASE)
    )
    if not claimed:
        return copy
    copy.attempts += 1
    if copy.first_tried_at is None:
        copy.first_tried_at = now
        CrossPost.objects.filter(pk=copy.pk).update(first_tried_at=now)
    network = network_of(copy)
    problem = text_problem(network=network, text=copy.text)
    if problem:
        return crosspost_transition(crosspost=copy, to=S.FAILED, error=problem, claimed_until=None)
    if not copy.post.is_published:
        return crosspost_transition(
            crosspost=copy, to=S.DRAFT, error="the blog post is no longer published", claimed_until=None
        )
    summary = post_summary(copy.post)
    try:
        remote = network.module().publish(
            source=copy.source, text=copy.text, link=summary.link, title=summary.title,
            summary=summary.summary, key=send_key(copy),
        )  # fmt: skip
    except ConnectorError as exc:
        return _failed(copy, exc)
    return crosspost_transition(
        crosspost=copy, to=S.SENT, remote_id=remote.remote_id, remote_url=remote.url, remote_extra=remote.extra,
        sent_text=copy.text, sent_at=timezone.now(), error="", claimed_until=None,
    )  # fmt: skip


def idempotency_key(copy: CrossPost) -> str:
    """The same for every try of one sending (a retry after a timeout is not posted twice), new when the copy
    is drafted anew: Mastodon answers a key it has seen (for an hour) with the status it made then, which
    unpublishing deleted ("Record not found"), so a post published again would never be sent."""
    base = f"servicepulse-crosspost-{copy.pk}"
    return f"{base}-{copy.redrafts}" if copy.redrafts else base


def send_key(copy: CrossPost) -> SendKey:
    """What names this sending on every try: the idempotency key, when it was first tried, and whether an
    earlier try was made (the network may have the post already)."""
    return SendKey(
        name=idempotency_key(copy),
        first_try=copy.first_tried_at or timezone.now(),
        retry=copy.attempts > 1,
    )


def _failed(copy: CrossPost, exc: ConnectorError) -> CrossPost:
    """A failed try: tried again later when the network asked to wait (Retry-After) or did not answer (the
    next try carries the same key, so the post is not made twice); failed otherwise, or after the last try."""
    wait: timedelta | None = None
    why = ""
    if copy.attempts < MAX_RATE_LIMITED_TRIES:
        if isinstance(exc, OutcomeUnknown):
            wait = UNKNOWN_OUTCOME_WAIT * copy.attempts
            why = "; the try carries the same key, so the post is not made twice"
        elif exc.retry_after is not None:
            wait, why = timedelta(seconds=max(1.0, exc.retry_after)), " (the network's Retry-After)"
    if wait is None:
        return crosspost_transition(crosspost=copy, to=S.FAILED, error=str(exc), claimed_until=None)
    at = timezone.now() + wait
    with transaction.atomic():
        crosspost_transition(
            crosspost=copy, to=S.SCHEDULED, send_at=at, claimed_until=None,
            error=f"{exc} — trying again after {local_time_text(at)}{why}",
        )  # fmt: skip
        _enqueue("crosspost_send_task", copy.pk, at=at)
    return copy


# -- following the blog post ---------------------------------------------------------------------------------


def crossposts_post_changed(*, post: Post) -> None:
    """The blog post was edited: redraft copies not yet sent (unless reworded by hand) and edit the sent ones
    where the network allows it; where it does not, say so on the copy."""
    summary = post_summary(post)
    for copy in CrossPost.objects.filter(post=post).exclude(state=S.DELETED):
        network = network_of(copy)
        if not copy.text_edited:
            text = draft_text(
                network=network, title=summary.title, summary=summary.summary, link=summary.link
            )
            if text != copy.text:
                copy.text = text
                copy.save(update_fields=["text"])
        if copy.state != S.SENT or copy.text == copy.sent_text:
            continue
        if network.can_update:
            _enqueue("crosspost_update_task", copy.pk)
        else:
            copy.note = (
                f"{network.label} does not allow editing a post: the copy still reads as first sent. "
                "Delete it there and post again if the change matters."
            )
            copy.save(update_fields=["note"])


def crosspost_update_remote(*, crosspost_id: int) -> CrossPost | None:
    copy = CrossPost.objects.select_related("source", "post").filter(pk=crosspost_id).first()
    if copy is None or copy.state != S.SENT or copy.post is None or copy.text == copy.sent_text:
        return copy
    network = network_of(copy)
    summary = post_summary(copy.post)
    try:
        network.module().update(
            source=copy.source, remote_id=copy.remote_id, text=copy.text, link=summary.link,
            title=summary.title, summary=summary.summary,
        )  # fmt: skip
    except ConnectorError as exc:
        if exc.retry_after is not None:
            _enqueue("crosspost_update_task", copy.pk, at=timezone.now() + timedelta(seconds=exc.retry_after))
        copy.note = f"editing the copy failed: {exc}"
        copy.save(update_fields=["note"])
        return copy
    return crosspost_transition(
        crosspost=copy, to=S.SENT, sent_text=copy.text, updated_remote_at=timezone.now(), note=""
    )


def crossposts_post_withdrawn(*, post: Post) -> None:
    """The blog post was unpublished or deleted: copies not sent are dropped; sent copies are deleted where
    the network allows it (else the copy says it must be deleted by hand)."""
    for copy in CrossPost.objects.filter(post=post).exclude(state=S.DELETED):
        network = network_of(copy)
        if copy.state != S.SENT:
            crosspost_transition(crosspost=copy, to=S.DELETED, deleted_at=timezone.now())
        elif network.can_delete:
            _enqueue("crosspost_delete_task", copy.pk)
        else:
            copy.note = f"{network.label} does not allow deleting it through the API: delete it there by hand"
            copy.save(update_fields=["note"])


def crosspost_delete_remote(*, crosspost_id: int) -> CrossPost | None:
    copy = CrossPost.objects.select_related("source").filter(pk=crosspost_id).first()
    if copy is None or copy.state != S.SENT:
        return copy
    if copy.post is not None and copy.post.is_published:
        return copy  # published again before the task ran: keep the copy
    try:
        network_of(copy).module().delete(source=copy.source, remote_id=copy.remote_id)
    except ConnectorError as exc:
        if "404" not in str(exc):  # already gone there is what we wanted
            if exc.retry_after is not None:
                _enqueue(
                    "crosspost_delete_task", copy.pk, at=timezone.now() + timedelta(seconds=exc.retry_after)
                )
            copy.note = f"deleting the copy failed: {exc}"
            copy.save(update_fields=["note"])
            return copy
    return crosspost_transition(crosspost=copy, to=S.DELETED, deleted_at=timezone.now(), note="")


# -- reactions -----------------------------------------------------------------------------------------------


def crosspost_counts_refresh(*, max_age: timedelta = timedelta(days=30)) -> int:
    """Likes, reposts, replies and quotes of recent copies, where the network has an API for them.
    Returns how many copies were updated; one account's failure does not stop the others."""
    since = timezone.now() - max_age
    copies = CrossPost.objects.filter(state=S.SENT, sent_at__gte=since).exclude(
        Q(remote_id="") | Q(source=None)
    )
    by_source: dict[int, list[CrossPost]] = {}
    for copy in copies.select_related("source"):
        if NETWORKS[copy.network].has_counts:
            by_source.setdefault(copy.source_id or 0, []).append(copy)
    updated = 0
    for group in by_source.values():
        source = group[0].source
        try:
            found = (
                NETWORKS[group[0].network]
                .module()
                .counts(source=source, remote_ids=[c.remote_id for c in group])
            )
        except ConnectorError:
            continue
        now = timezone.now()
        for copy in group:
            counts = found.get(copy.remote_id)
            if counts is None:
                continue
            CrossPost.objects.filter(pk=copy.pk).update(
                likes=counts.likes, reposts=counts.reposts, replies=counts.replies, quotes=counts.quotes,
                counts_at=now,
            )  # fmt: skip
            updated += 1
    return updated
