"""Talking to Reddit through praw (an OAuth "script" app), on a guarded requests session.

Tests point `oauth_url` and `reddit_url` at a loopback replay server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from servicepulse import __version__
from servicepulse.core.fetcher import (
    FetchError,
    guarded_requests_session,
    parse_retry_after,
    status_message,
    unanswered_request_class,
)
from servicepulse.sources.connectors.reddit.parse import thing_data
from servicepulse.sources.registry import ConnectorError, OutcomeUnknown

OAUTH_URL = "https://oauth.reddit.com"
REDDIT_URL = "https://www.reddit.com"
LISTING_LIMIT = 100  # things per request, Reddit's maximum (https://www.reddit.com/dev/api/#listings)


class RedditClient:
    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        username: str,
        password: str,
        oauth_url: str = OAUTH_URL,
        reddit_url: str = REDDIT_URL,
    ) -> None:
        import praw

        self.reddit = praw.Reddit(
            client_id=client_id,
            client_secret=client_secret,
            username=username,
            password=password,
            user_agent=f"servicepulse/{__version__} (by u/{username or 'unknown'})",
            oauth_url=oauth_url.rstrip("/"),
            reddit_url=reddit_url.rstrip("/"),
            check_for_updates=False,
            check_for_async=False,
            requestor_kwargs={"session": guarded_requests_session()},
        )

    def call(self, what: str, function: Callable[[], Any]) -> Any:
        """Run `function` (praw calls on `reddit`) and return its answer. praw's and prawcore's errors become
        ConnectorError named by `what`, with retry_after from Reddit's Retry-After when it rate limits."""
        import prawcore
        from praw.exceptions import PRAWException, RedditAPIException

        try:
            return function()
        except prawcore.TooManyRequests as exc:
            retry = parse_retry_after(exc.retry_after) if exc.retry_after else None
            raise ConnectorError(f"{what}: HTTP 429 rate limited by Reddit", retry_after=retry) from None
        except prawcore.ResponseException as exc:
            status = exc.response.status_code
            headers = exc.response.headers
            message = status_message(
                status, exc.response.content, content_type=headers.get("content-type", "")
            )
            retry = parse_retry_after(headers.get("retry-after")) if status in (429, 503) else None
            raise ConnectorError(f"{what}: {message}", retry_after=retry) from None
        except prawcore.OAuthException as exc:
            raise ConnectorError(f"{what}: Reddit refused the app's credentials: {exc}") from None
        except prawcore.RequestException as exc:
            inner = getattr(exc, "original_exception", exc)
            if isinstance(inner, unanswered_request_class()):
                raise OutcomeUnknown(f"{what}: Reddit did not answer: {inner}") from None
            if isinstance(inner, FetchError):
                raise ConnectorError(f"{what}: {inner}") from None
            raise ConnectorError(f"{what}: cannot reach Reddit: {inner}") from None
        except prawcore.PrawcoreException as exc:
            raise ConnectorError(f"{what}: {exc}") from None
        except RedditAPIException as exc:
            raise ConnectorError(f"{what}: Reddit said: {exc}") from None
        except PRAWException as exc:
            raise ConnectorError(f"{what}: {exc}") from None

    def newest(self, kind: str, subreddits: list[str]) -> Iterator[dict[str, Any]]:
        """Newest first: `kind` is "posts" (/r/x+y/new) or "comments" (/r/x+y/comments)."""
        subreddit = self.reddit.subreddit("+".join(subreddits))
        listing = subreddit.new if kind == "posts" else subreddit.comments
        # No overall limit: praw follows `after` page by page (Reddit keeps about 1000 things per listing),
        # and the caller stops at what it stored last. A limit here would end the walk after one page, and
        # the cursor would then jump over whatever came between (a busy evening, a pull delayed by back-off).
        # request_limit is a ListingGenerator argument praw's ListingGeneratorKwargs type leaves out.
        generator = listing(limit=None, request_limit=LISTING_LIMIT)  # type: ignore[call-arg]
        what = f"r/{'+'.join(subreddits)} {kind}"
        while True:
            item = self.call(what, lambda: next(generator, None))
            if item is None:
                return
            yield thing_data(item)

    def reply(self, *, fullname: str, text: str) -> dict[str, Any]:
        kind, _, thing_id = fullname.partition("_")
        target = self.reddit.submission(id=thing_id) if kind == "t3" else self.reddit.comment(id=thing_id)
        created = self.call("reply", lambda: target.reply(body=text))
        if created is None:
            raise ConnectorError("reply: Reddit did not return the new comment")
        return thing_data(created)
