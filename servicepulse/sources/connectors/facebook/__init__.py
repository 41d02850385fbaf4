"""Facebook Page: comments and visitor posts, live through the Pages `feed` webhook, backfilled through the
Graph API, and answered with a comment reply.

Webhook set-up: in the Meta app, subscribe the Page object's `feed` field with the callback
`{BASE_URL}/sources/hooks/<source name>/` and the source's `verify_token`; Meta signs each delivery with the
app secret (`X-Hub-Signature-256`).
"""

from __future__ import annotations

import hmac
from datetime import timedelta
from typing import Any, ClassVar

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from servicepulse.mentions.models import Mention
from servicepulse.sources.connectors.facebook.client import GraphClient
from servicepulse.sources.connectors.facebook.parse import (
    NoText,
    ParseError,
    parse_feed_change,
    parse_graph_comment,
    parse_graph_post,
    parse_time,
)
from servicepulse.sources.options import as_bool, as_float
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


@register
class FacebookConnector(Connector):
    kind: ClassVar[str] = "facebook"
    description: ClassVar[str] = (
        "A Facebook Page: posts and comments arrive live through the Page `feed` webhook "
        "(/sources/hooks/<name>/, signed with the app secret) and are backfilled from the Graph API; "
        "replies are posted as comment replies with the Page access token."
    )
    options: ClassVar[tuple[OptionSpec, ...]] = (
        OptionSpec("page_id", "The Page's numeric id", required=True),
        OptionSpec(
            "page_access_token",
            "Page access token (pages_read_engagement, pages_manage_engagement)",
            secret=True,
        ),
        OptionSpec(
            "app_secret", "The Meta app secret: checks webhook signatures and signs API calls", secret=True
        ),
        OptionSpec(
            "verify_token", "Any string you also type into the webhook set-up (hub.verify_token)", secret=True
        ),
        OptionSpec(
            "api_base_url", "Graph API address", default="https://graph.facebook.com", type=OptionType.URL
        ),
        OptionSpec("api_version", "Graph API version", default="v23.0"),
        OptionSpec(
            "backfill_days",
            "How far back the first pull reads",
            default=7,
            type=OptionType.NUMBER,
            minimum=0,
            maximum=3650,
        ),
        OptionSpec(
            "comments_lookback_days",
            "Re-read comments on posts this recent at every pull",
            default=3,
            type=OptionType.NUMBER,
            minimum=0,
            maximum=365,
        ),
        OptionSpec(
            "max_pages",
            "Most pages read per list per pull",
            default=10,
            type=OptionType.INTEGER,
            minimum=1,
            maximum=1000,
        ),
        OptionSpec(
            "include_page_posts",
            "Also store what the Page itself writes",
            default=False,
            type=OptionType.BOOLEAN,
        ),
        poll_seconds_option("Seconds between scheduled backfills (default 1800)"),
    )
    can_pull: ClassVar[bool] = True
    poll_seconds: ClassVar[int] = 1800  # backfill only: the webhook brings posts live
    can_reply: ClassVar[bool] = True
    reply_needs: ClassVar[tuple[tuple[str, ...], ...]] = (("page_access_token",),)
    can_receive: ClassVar[bool] = True
    webhook_secrets: ClassVar[tuple[str, ...]] = ("app_secret", "verify_token")

    # -- options -------------------------------------------------------------------------------------------
    def _opt(self, name: str) -> Any:
        spec = next(spec for spec in self.options if spec.name == name)
        return self.source.options.get(name, spec.default)

    def _num(self, name: str) -> float:
        value = self._opt(name)
        try:
            return as_float(value, default=0.0)
        except (TypeError, ValueError):
            raise ConnectorError(f"option {name} must be a number, got {value!r}") from None

    def _flag(self, name: str) -> bool:
        value = self._opt(name)
        try:
            return as_bool(value)
        except ValueError:
            raise ConnectorError(f"option {name} must be yes or no, got {value!r}") from None

    @property
    def page_id(self) -> str:
        return str(self._opt("page_id") or "")

    def client(self) -> GraphClient:
        """A Graph API client for this source's Page token (and app secret, for `appsecret_proof`), aimed at
        its configured API URL and version. The caller closes it."""
        secrets = self.source.secrets
        return GraphClient(
            access_token=secrets.get("page_access_token", ""),
            app_secret=secrets.get("app_secret", ""),
            base_url=str(self._opt("api_base_url")),
            version=str(self._opt("api_version") or ""),
        )

    # -- webhook ---------------------------------------------------------------------------------------------
    def receive(self, request: HttpRequest) -> HttpResponse:
        if request.method == "GET":
            return self._verify_subscription(request)
        body = read_body(request)
        secret = require_secret(self.source, "app_secret")
        if not signature_matches(
            secret=secret,
            message=body,
            header_value=request.headers.get("X-Hub-Signature-256"),
            prefix="sha256=",
        ):
            raise WebhookRejected(
                403, "X-Hub-Signature-256 does not match the body signed with the app secret"
            )
        payload, error = decode_json(body)
        if error:
            return accepted(
                quarantine_delivery(source=self.source, body=body, reason=error, position="delivery")
            )
        if (
            not isinstance(payload, dict)
            or payload.get("object") != "page"
            or not isinstance(payload.get("entry"), list)
        ):
            reason = "not a Page webhook delivery (expected object 'page' and an entry list)"
            return accepted(
                quarantine_delivery(source=self.source, body=body, reason=reason, position="delivery")
            )
        items, ignored, skipped = self._delivery_items(payload["entry"])
        return accepted(store_items(source=self.source, items=items, ignored=ignored, skipped=skipped))

    def _verify_subscription(self, request: HttpRequest) -> HttpResponse:
        expected = require_secret(self.source, "verify_token")
        given = request.GET.get("hub.verify_token", "")
        challenge = request.GET.get("hub.challenge", "")
        if request.GET.get("hub.mode") != "subscribe" or not challenge:
            raise WebhookRejected(400, "expected hub.mode=subscribe with a hub.challenge")
        if not hmac.compare_digest(expected.encode(), given.encode()):
            raise WebhookRejected(403, "hub.verify_token does not match the source's verify_token")
        return HttpResponse(challenge, content_type="text/plain")

    def _delivery_items(self, entries: list[Any]) -> tuple[list[Item], int, int]:
        """(items to store or quarantine, changes ignored, posts and comments skipped for having no text)."""
        items: list[Item] = []
        ignored = skipped = 0
        include_page = self._flag("include_page_posts")
        for e, entry in enumerate(entries):
            changes = entry.get("changes") if isinstance(entry, dict) else None
            if isinstance(entry, dict) and "messaging" in entry and changes is None:
                ignored += 1  # Messenger events share the Page webhook; private messages are not listened to
                continue
            if not isinstance(changes, list):
                items.append(Item(f"entry {e}", raw_of(entry), error="entry has no changes list"))
                continue
            page_id = str(entry.get("id") or self.page_id)
            for c, change in enumerate(changes):
                position = f"entry {page_id}@{entry.get('time')} change {c}"
                if not isinstance(change, dict) or change.get("field") != "feed":
                    ignored += 1
                    continue
                try:
                    mention = parse_feed_change(
                        change.get("value"), page_id=page_id, include_page=include_page
                    )
                except NoText:
                    # A photo, video or sticker without words: nothing to read, not bad input. Counted as the
                    # backfill counts it; quarantining it filled the admin's review list with every sticker.
                    skipped += 1
                    continue
                except (ParseError, ValueError) as exc:
                    items.append(Item(position, raw_of(change), error=str(exc)))
                    continue
                if mention is None:
                    ignored += 1
                else:
                    items.append(Item(position, raw_of(change), mention=mention))
        return items, ignored, skipped

    # -- backfill --------------------------------------------------------------------------------------------
    def pull(self) -> PullResult:
        now = timezone.now()
        since_ts = self.source.cursor.get("since")
        if not isinstance(since_ts, int):
            since_ts = int((now - timedelta(days=self._num("backfill_days"))).timestamp())
        lookback = int(timedelta(days=self._num("comments_lookback_days")).total_seconds())
        max_pages = int(self._num("max_pages"))
        include_page = self._flag("include_page_posts")
        result = PullResult()
        newest = since_ts
        client = self.client()
        try:
            for page in client.page_feed(
                page_id=self.page_id, since=since_ts - lookback, max_pages=max_pages
            ):
                for node in page:
                    items: list[Item] = []
                    post_id = str(node.get("id", "")) if isinstance(node, dict) else ""
                    try:
                        try:
                            post = parse_graph_post(node, page_id=self.page_id, include_page=include_page)
                        except NoText:
                            post = None
                            result.skipped += 1
                        if post is not None:
                            items.append(Item(f"post {post_id}", raw_of(node), mention=post))
                        created = int(parse_time(node.get("created_time")).timestamp())
                        newest = max(newest, created)
                    except (ParseError, ValueError) as exc:
                        items.append(Item(f"post {post_id}", raw_of(node), error=str(exc)))
                    if post_id:
                        items.extend(self._comment_items(client, post_id, max_pages, include_page, result))
                    self._store(items, result)
        finally:
            client.close()
        source_set_cursor(source=self.source, cursor={**self.source.cursor, "since": newest})
        return result

    def _comment_items(
        self, client: GraphClient, post_id: str, max_pages: int, include_page: bool, result: PullResult
    ) -> list[Item]:
        items: list[Item] = []
        for page in client.comments(object_id=post_id, max_pages=max_pages):
            for node in page:
                position = f"comment {node.get('id') if isinstance(node, dict) else '?'} on {post_id}"
                try:
                    mention = parse_graph_comment(
                        node, post_id=post_id, page_id=self.page_id, include_page=include_page
                    )
                except NoText:
                    result.skipped += 1  # a sticker or photo without words: nothing to read, not bad input
                    continue
                except (ParseError, ValueError) as exc:
                    items.append(Item(position, raw_of(node), error=str(exc)))
                    continue
                if mention is not None:
                    items.append(Item(position, raw_of(node), mention=mention))
        return items

    def _store(self, items: list[Item], result: PullResult) -> None:
        stored = store_items(source=self.source, items=items)
        result.created += stored.created
        result.duplicates += stored.duplicates
        result.quarantined += stored.quarantined
        result.mention_ids.extend(stored.mention_ids)

    # -- reply -----------------------------------------------------------------------------------------------
    def reply(self, *, mention: Mention, text: str, key: SendKey | None = None) -> ReplyResult:
        """Answer with a comment. Facebook threads one level deep: a reply to a reply goes to its parent."""
        if not text.strip():
            raise ConnectorError("a reply needs some text")
        target = mention.external_id
        nested = mention.in_reply_to and mention.thread_id and mention.in_reply_to != mention.thread_id
        if nested:
            target = mention.in_reply_to
        client = self.client()
        try:
            new_id = client.comment(object_id=target, message=text)
        finally:
            client.close()
        post_id = mention.thread_id or target
        return ReplyResult(
            external_id=new_id, url=f"https://www.facebook.com/{post_id}?comment_id={new_id.split('_')[-1]}"
        )
