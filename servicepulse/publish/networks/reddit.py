"""Reddit copies through praw (the connector's RedditClient): a link submission to the subreddit set on the
target (`{"subreddit": "..."}`; many subreddits forbid self-promotion: the leader chooses where it is allowed),
deleted with `Submission.delete()`. Link posts cannot be edited."""

from __future__ import annotations

from typing import TYPE_CHECKING

from servicepulse.publish.networks import Counts, Remote
from servicepulse.sources.registry import ConnectorError, SendKey, connector_for

if TYPE_CHECKING:
    from servicepulse.sources.models import Source


def _subreddit(source: Source) -> str:
    target = getattr(source, "crosspost_target", None)
    name = str((target.options if target else {}).get("subreddit") or "").removeprefix("r/")
    if not name:
        raise ConnectorError(
            "no subreddit set for cross-posting on this Reddit account (target option subreddit)"
        )
    return name


def publish(
    *, source: Source, text: str, link: str, title: str, summary: str, key: SendKey | None = None
) -> Remote:
    client = connector_for(source).client()  # type: ignore[attr-defined]
    subreddit = client.reddit.subreddit(_subreddit(source))
    submission = client.call("submit", lambda: subreddit.submit(title=text[:300], url=link, resubmit=True))
    # The submit answer carries the id only (praw would fetch the whole post for its permalink); Reddit's
    # short /comments/<id>/ address redirects to it.
    return Remote(remote_id=f"t3_{submission.id}", url=f"https://www.reddit.com/comments/{submission.id}/")


def delete(*, source: Source, remote_id: str) -> None:
    client = connector_for(source).client()  # type: ignore[attr-defined]
    submission = client.reddit.submission(id=remote_id.removeprefix("t3_"))
    client.call("delete", submission.delete)


def counts(*, source: Source, remote_ids: list[str]) -> dict[str, Counts]:
    client = connector_for(source).client()  # type: ignore[attr-defined]
    found: dict[str, Counts] = {}
    for thing in client.call("info", lambda: list(client.reddit.info(fullnames=remote_ids))):
        found[f"t3_{thing.id}"] = Counts(likes=int(thing.score or 0), replies=int(thing.num_comments or 0))
    return found
