"""Talking to the X API v2 with tweepy: recent search (app-only bearer token) and replies (user context).

tweepy's session is the fetcher's guarded requests session (tokens are never sent to a private address).
tweepy always calls `https://api.twitter.com`; `api_base_url` mounts an adapter on that session that sends
those calls elsewhere (tests use a loopback replay server), through the same guard. Rate limits: a 429 carries
`x-rate-limit-reset` (epoch seconds) and sometimes `Retry-After`; both become `ConnectorError.retry_after`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import requests
import tweepy
from requests.adapters import BaseAdapter

from servicepulse.core.fetcher import (
    FetchError,
    guarded_requests_session,
    parse_rate_limit_reset,
    parse_retry_after,
    request_sent,
)
from servicepulse.core.words import NOT_WORDS
from servicepulse.sources.registry import ConnectorError, OutcomeUnknown, SendKey

API_HOST = "https://api.twitter.com"
TWEET_FIELDS = [
    "created_at",
    "author_id",
    "conversation_id",
    "in_reply_to_user_id",
    "referenced_tweets",
    "lang",
]
USER_FIELDS = ["username", "name"]


class _Rebase(BaseAdapter):
    """Send requests for API_HOST to another base URL (same paths and query) through `adapter`."""

    def __init__(self, target: str, adapter: BaseAdapter) -> None:
        super().__init__()
        self.target = target.rstrip("/")
        self.adapter = adapter

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if request.url and request.url.startswith(API_HOST):
            request.url = self.target + request.url[len(API_HOST) :]
        return self.adapter.send(request, **kwargs)

    def close(self) -> None:
        self.adapter.close()


def translate_error(exc: Exception, action: str, *, creates: bool = False) -> ConnectorError:
    """The ConnectorError for one of ERRORS raised by tweepy during `action` (named in the message): a rate
    limit waits until Retry-After or x-rate-limit-reset (fifteen minutes when neither is given); a request
    that `creates` a post and got no answer is OutcomeUnknown."""
    if creates and request_sent(exc):
        return OutcomeUnknown(
            f"X did not answer {action} in time ({exc}); the post may have been made: it is looked for on the "
            "account before any retry"
        )
    if isinstance(exc, tweepy.TooManyRequests):
        headers = exc.response.headers
        wait = parse_retry_after(headers.get("retry-after"))
        reset = headers.get("x-rate-limit-reset")
        if wait is None and (until_reset := parse_rate_limit_reset(reset)) is not None:
            wait = max(until_reset, 1.0)
        return ConnectorError(f"X rate limit on {action}", retry_after=wait or 15 * 60.0)
    if isinstance(exc, tweepy.TwitterServerError):
        return ConnectorError(f"X server error on {action}: {exc}")
    if isinstance(exc, tweepy.HTTPException):
        return ConnectorError(f"X refused {action}: {exc}")
    if isinstance(exc, ValueError):
        return ConnectorError(f"X answered {action} with a body that is not JSON (cut short?): {exc}")
    return ConnectorError(f"X {action} failed: {exc}")


# What a tweepy call can raise: its own errors, the requests underneath, a refused address, and a body that is
# not JSON.
ERRORS = (tweepy.TweepyException, requests.RequestException, FetchError, ValueError)


class XClient:
    def __init__(
        self,
        *,
        bearer_token: str = "",
        consumer_key: str = "",
        consumer_secret: str = "",
        access_token: str = "",
        access_token_secret: str = "",
        base_url: str = API_HOST,
    ) -> None:
        self.user_token = False
        self.client = tweepy.Client(
            bearer_token=bearer_token or None,
            consumer_key=consumer_key or None,
            consumer_secret=consumer_secret or None,
            access_token=access_token or None,
            access_token_secret=access_token_secret or None,
            return_type=dict,
            wait_on_rate_limit=False,  # the scheduler waits; a worker must not sleep for fifteen minutes
        )
        session = guarded_requests_session()
        if base_url.rstrip("/") != API_HOST:
            session.mount(API_HOST, _Rebase(base_url, session.get_adapter(API_HOST)))
        self.client.session = session

    def search_recent(
        self,
        *,
        query: str,
        since_id: str | None,
        start_time: str | None,
        max_results: int,
        next_token: str | None,
        until_id: str | None = None,
    ) -> dict[str, Any]:
        try:
            payload = self.client.search_recent_tweets(
                query,
                since_id=since_id,
                until_id=until_id,
                start_time=None if since_id else start_time,
                max_results=max_results,
                next_token=next_token,
                expansions=["author_id"],
                tweet_fields=TWEET_FIELDS,
                user_fields=USER_FIELDS,
            )
        except ERRORS as exc:
            raise translate_error(exc, f"recent search {query!r}") from None
        if not isinstance(payload, dict):
            raise ConnectorError("X recent search answered with something other than an object")
        return payload

    def reply(self, *, text: str, in_reply_to: str, user_auth: bool, key: SendKey | None = None) -> str:
        return self.post(text=text, in_reply_to=in_reply_to, user_auth=user_auth, key=key)

    def post(
        self, *, text: str, user_auth: bool, in_reply_to: str | None = None, key: SendKey | None = None
    ) -> str:
        """POST /2/tweets; returns the new post's id. X has no idempotency key, so a retry (`key.retry`: an
        earlier try may have posted it) first looks for the post on the account (`find_own_post`) and
        returns it when found. A try that got no answer raises OutcomeUnknown and is not repeated here: the
        post may not be readable yet, and the caller's next try looks again."""
        if key is not None and key.retry:
            found = self.find_own_post(
                since=key.first_try, text=text, in_reply_to=in_reply_to, user_auth=user_auth
            )
            if found:
                return found
        try:
            payload = self.client.create_tweet(
                text=text, in_reply_to_tweet_id=in_reply_to, user_auth=user_auth
            )
        except ERRORS as exc:
            raise translate_error(exc, "POST /2/tweets", creates=True) from None
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            raise ConnectorError("X accepted the post but returned no id")
        return str(data["id"])

    def find_own_post(
        self, *, since: datetime, text: str, in_reply_to: str | None, user_auth: bool
    ) -> str | None:
        """The id of a post the signed-in account made since `since` that is this one: a reply to
        `in_reply_to`, or (no `in_reply_to`) a post with the same words once links are left out (X shortens
        them to t.co). GET /2/users/me, then one page of GET /2/users/:id/tweets from a minute before
        `since`: both readable with the credentials that post (tweet.read and users.read, which
        POST /2/tweets needs too); two billed reads, made only before a retry."""
        try:
            me = self.client.get_me(user_auth=user_auth)
            user_id = str(((me or {}).get("data") or {}).get("id") or "")
            if not user_id:
                raise ConnectorError("X did not say which account the credentials belong to")
            page = self.client.get_users_tweets(
                user_id,
                start_time=(since - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                max_results=100,
                tweet_fields=["created_at", "referenced_tweets"],
                user_auth=user_auth,
            )
        except ERRORS as exc:
            raise translate_error(exc, "looking for the post before posting it again") from None
        for tweet in (page or {}).get("data") or []:
            if not isinstance(tweet, dict) or not tweet.get("id"):
                continue
            if in_reply_to is not None:
                refs = tweet.get("referenced_tweets") or []
                if any(r.get("type") == "replied_to" and str(r.get("id")) == in_reply_to for r in refs):
                    return str(tweet["id"])
            elif _words(str(tweet.get("text") or "")) == _words(text):
                return str(tweet["id"])
        return None


def _words(text: str) -> str:
    """The words of a post, links left out (X shortens them to t.co) and handles and addresses too."""
    return " ".join(NOT_WORDS.sub(" ", text).split())
