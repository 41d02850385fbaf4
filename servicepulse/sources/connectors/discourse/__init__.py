"""Discourse: the latest posts of chosen categories, pulled from `/posts.json` and pushed by the forum's
webhook (`post_created`, `post_edited`), signed with `X-Discourse-Event-Signature: sha256=<hmac>`; replies
as posts in the same topic.

Webhook set-up (Admin → API → Webhooks): payload URL `{BASE_URL}/sources/hooks/<source name>/`, content type
application/json, the source's `webhook_secret` as the secret, the "Post" event.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.http import HttpRequest, HttpResponse, JsonResponse

from servicepulse.mentions.models import Mention
from servicepulse.sources.connectors.discourse.client import DiscourseClient
from servicepulse.sources.connectors.discourse.parse import ParseError, parse_post, wanted
from servicepulse.sources.options import as_float
from servicepulse.sources.registry import (
    Connector,
    ConnectorError,
    OptionSpec,
    OptionType,
    PullResult,
    ReplyResult,
    SendKey,
    poll_seconds_option,
    register,
)
from servicepulse.sources.services import source_set_cursor
from servicepulse.sources.webhooks import (
    Item,
    WebhookRejected,
    accepted,
    decode_json,
    quarantine_delivery,
    raw_of,
    read_body,
    require_secret,
    signature_matches,
    store_items,
)

POST_EVENTS = {"post_created", "post_edited", "post_recovered"}


def category_ids(value: Any) -> set[int]:
    """`"it-help/5, wifi/7"`, `"5,7"` or `[5, "wifi/7"]` -> {5, 7}."""
    if value in (None, "", []):
        return set()
    parts = value if isinstance(value, list) else str(value).split(",")
    ids: set[int] = set()
    for part in parts:
        text = str(part).strip().rstrip("/")
        if not text:
            continue
        tail = text.rsplit("/", 1)[-1]
        if not tail.isdecimal():
            raise ConnectorError(
                f"Discourse category {text!r} should be 'slug/id' or an id, as in /c/slug/id"
            )
        ids.add(int(tail))
    return ids


@register
class DiscourseConnector(Connector):
    kind: ClassVar[str] = "discourse"
    description: ClassVar[str] = (
        "A Discourse forum: latest posts of chosen categories, pulled from /posts.json and pushed by the "
        "forum's Post webhook (/sources/hooks/<name>/, signed with the webhook secret); replies as posts."
    )
    options: ClassVar[tuple[OptionSpec, ...]] = (
        OptionSpec(
            "base_url",
            "The forum's address, e.g. https://forum.example.ac.uk",
            required=True,
            type=OptionType.URL,
        ),
        OptionSpec("categories", "Categories to listen to, 'slug/id' comma-separated (empty: all public)"),
        OptionSpec("api_key", "API key: needed for private categories and for replies", secret=True),
        OptionSpec("api_username", "The user the API key acts as", default="system"),
        OptionSpec("webhook_secret", "The secret typed into the forum's webhook settings", secret=True),
        OptionSpec(
            "max_pages",
            "Most /posts.json pages read per pull",
            default=5,
            type=OptionType.INTEGER,
            minimum=1,
            maximum=1000,
        ),
        poll_seconds_option("Seconds between scheduled pulls (default 600)"),
    )
    can_pull: ClassVar[bool] = True
    poll_seconds: ClassVar[int] = 600
    can_reply: ClassVar[bool] = True
    reply_needs: ClassVar[tuple[tuple[str, ...], ...]] = (("api_key",),)
    can_receive: ClassVar[bool] = True
    webhook_secrets: ClassVar[tuple[str, ...]] = ("webhook_secret",)

    def _opt(self, name: str) -> Any:
        spec = next(spec for spec in self.options if spec.name == name)
        return self.source.options.get(name, spec.default)

    def _num(self, name: str) -> float:
        value = self._opt(name)
        try:
            return as_float(value, default=0.0)
        except (TypeError, ValueError):
            raise ConnectorError(f"option {name} must be a number, got {value!r}") from None

    def check_options(self) -> None:
        category_ids(self._opt("categories"))

    @property
    def base_url(self) -> str:
        return str(self._opt("base_url") or "").rstrip("/")

    def _client(self) -> DiscourseClient:
        secrets = self.source.secrets
        return DiscourseClient(
            base_url=self.base_url,
            api_key=secrets.get("api_key", ""),
            api_username=str(self._opt("api_username") or "system"),
        )

    def _item(self, post: Any, position: str, categories: set[int]) -> Item | None:
        if isinstance(post, dict) and not wanted(post, category_ids=categories):
            return None
        try:
            return Item(position, raw_of(post), mention=parse_post(post, base_url=self.base_url))
        except (ParseError, ValueError) as exc:
            return Item(position, raw_of(post), error=str(exc))

    # -- pull ------------------------------------------------------------------------------------------------
    def pull(self) -> PullResult:
        """Read /posts.json newest first, paging back until the last post seen (or `max_pages`).

        When `max_pages` runs out before the last post seen (more new posts than the pages hold: a pull after
        a long back-off, a busy evening), the cursor keeps the last post seen and notes where the walk
        stopped (`backlog`); the next pulls carry on from there before reading the newest again, so no post
        between the two is skipped."""
        categories = category_ids(self._opt("categories"))
        cursor = dict(self.source.cursor)
        last_seen = cursor.get("last_post_id")
        last_seen = last_seen if isinstance(last_seen, int) else 0
        backlog = cursor.get("backlog")
        result = PullResult()
        if isinstance(backlog, dict) and isinstance(backlog.get("before"), int):
            newest = backlog.get("newest")
            newest = newest if isinstance(newest, int) else last_seen
            stopped = self._walk(
                before=backlog["before"], floor=last_seen, categories=categories, result=result
            )
        else:
            seen: list[int] = []
            stopped = self._walk(
                before=None, floor=last_seen, categories=categories, result=result, seen=seen
            )
            newest = max([last_seen, *seen])
            if not last_seen:
                stopped = None  # the first pull reads back `max_pages` pages only, by design
        cursor.pop("backlog", None)
        if stopped is None:
            cursor["last_post_id"] = max(last_seen, newest)
        else:
            cursor["last_post_id"] = last_seen
            cursor["backlog"] = {"before": stopped, "newest": newest}
        source_set_cursor(source=self.source, cursor=cursor)
        return result

    def _walk(
        self,
        *,
        before: int | None,
        floor: int,
        categories: set[int],
        result: PullResult,
        seen: list[int] | None = None,
    ) -> int | None:
        """Store the posts above `floor`, from `before` down (None: the newest), at most `max_pages` pages.
        Returns the `before` to carry on from when `floor` was not reached, else None."""
        client = self._client()
        for _ in range(int(self._num("max_pages"))):
            posts = client.latest_posts(before=before)
            if not posts:
                return None
            ids = [p["id"] for p in posts if isinstance(p, dict) and isinstance(p.get("id"), int)]
            items: list[Item] = []
            for post in posts:
                post_id = post.get("id") if isinstance(post, dict) else None
                if isinstance(post_id, int) and post_id <= floor:
                    continue
                item = self._item(post, f"post {post_id}", categories)
                if item is not None:
                    items.append(item)
            stored = store_items(source=self.source, items=items)
            result.created += stored.created
            result.duplicates += stored.duplicates
            result.quarantined += stored.quarantined
            result.mention_ids.extend(stored.mention_ids)
            if not ids:
                return None
            if seen is not None:
                seen.extend(ids)
            if min(ids) <= floor or min(ids) <= 1:
                return None
            before = min(ids)
        return before

    # -- webhook ---------------------------------------------------------------------------------------------
    def receive(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            raise WebhookRejected(405, "Discourse webhooks are POSTed")
        body = read_body(request)
        secret = require_secret(self.source, "webhook_secret")
        header = request.headers.get("X-Discourse-Event-Signature")
        if not signature_matches(secret=secret, message=body, header_value=header, prefix="sha256="):
            raise WebhookRejected(403, "X-Discourse-Event-Signature does not match the body")
        event = request.headers.get("X-Discourse-Event", "")
        event_id = request.headers.get("X-Discourse-Event-Id", "?")
        if event == "ping":
            return JsonResponse({"ping": "OK"})
        if event not in POST_EVENTS:
            return accepted(store_items(source=self.source, items=[], ignored=1))
        position = f"event {event_id} ({event})"
        payload, error = decode_json(body)
        if error:
            return accepted(
                quarantine_delivery(source=self.source, body=body, reason=error, position=position)
            )
        post = payload.get("post") if isinstance(payload, dict) else None
        if not isinstance(post, dict):
            reason = "a post event without a post object"
            return accepted(
                quarantine_delivery(source=self.source, body=body, reason=reason, position=position)
            )
        item = self._item(post, position, category_ids(self._opt("categories")))
        if item is None:
            return accepted(store_items(source=self.source, items=[], ignored=1))
        return accepted(store_items(source=self.source, items=[item], edits=event == "post_edited"))

    # -- reply -----------------------------------------------------------------------------------------------
    def reply(self, *, mention: Mention, text: str, key: SendKey | None = None) -> ReplyResult:
        if not text.strip():
            raise ConnectorError("a reply needs some text")
        raw = mention.raw if isinstance(mention.raw, dict) else {}
        topic_id = raw.get("topic_id")
        if not isinstance(topic_id, int):
            raise ConnectorError("this Discourse mention has no topic id to reply in")
        number = raw.get("post_number") if isinstance(raw.get("post_number"), int) else None
        created = self._client().create_post(topic_id=topic_id, raw=text, reply_to_post_number=number)
        slug = created.get("topic_slug") or raw.get("topic_slug") or "-"
        url = f"{self.base_url}/t/{slug}/{topic_id}/{created.get('post_number', '')}".rstrip("/")
        return ReplyResult(external_id=str(created["id"]), url=url)
