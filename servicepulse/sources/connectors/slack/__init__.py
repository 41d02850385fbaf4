"""Slack: messages of chosen channels, live through the Events API (request URL
`{BASE_URL}/sources/hooks/<source name>/`, subscribed to `message.channels`), backfilled from
`conversations.history`, answered in the message's thread.

Every delivery is checked with the app's signing secret (`X-Slack-Signature:
v0=HMAC-SHA256("v0:{timestamp}:{body}")`, compared in constant time over the raw bytes) and refused when
`X-Slack-Request-Timestamp` is more than five minutes from now, so a captured request cannot be replayed.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any, ClassVar

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from servicepulse.mentions.models import Mention
from servicepulse.sources.connectors.slack.client import DEFAULT_BASE_URL, SlackClient
from servicepulse.sources.connectors.slack.parse import ParseError, message_url, parse_message
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

MAX_CLOCK_SKEW = 5 * 60  # seconds, as Slack's "verifying requests" guide recommends


def channel_list(value: Any) -> list[str]:
    if value in (None, "", []):
        return []
    parts = value if isinstance(value, list) else str(value).split(",")
    return [str(part).strip() for part in parts if str(part).strip()]


@register
class SlackConnector(Connector):
    kind: ClassVar[str] = "slack"
    description: ClassVar[str] = (
        "Slack channels: messages arrive through the Events API (/sources/hooks/<name>/, checked with the "
        "signing secret, stale timestamps refused), are backfilled from conversations.history, and are "
        "answered in thread with chat.postMessage."
    )
    options: ClassVar[tuple[OptionSpec, ...]] = (
        OptionSpec("channels", "Channel ids to listen to, comma-separated (e.g. C024BE91L)", required=True),
        OptionSpec("bot_token", "Bot token (xoxb-...) with channels:history and chat:write", secret=True),
        OptionSpec("signing_secret", "The app's signing secret (Basic Information page)", secret=True),
        OptionSpec("workspace_url", "e.g. https://northgate.slack.com, for links to messages", default=""),
        OptionSpec("api_base_url", "Slack Web API address", default=DEFAULT_BASE_URL, type=OptionType.URL),
        OptionSpec(
            "backfill_days",
            "How far back the first pull reads",
            default=7,
            type=OptionType.NUMBER,
            minimum=0,
            maximum=3650,
        ),
        OptionSpec(
            "max_pages",
            "Most history pages read per channel per pull",
            default=5,
            type=OptionType.INTEGER,
            minimum=1,
            maximum=1000,
        ),
        poll_seconds_option("Seconds between scheduled backfills (default 3600)"),
    )
    can_pull: ClassVar[bool] = True
    poll_seconds: ClassVar[int] = 3600  # backfill only: the Events API brings messages live
    can_reply: ClassVar[bool] = True
    reply_needs: ClassVar[tuple[tuple[str, ...], ...]] = (("bot_token",),)
    can_receive: ClassVar[bool] = True
    webhook_secrets: ClassVar[tuple[str, ...]] = ("signing_secret",)

    def _opt(self, name: str) -> Any:
        spec = next(spec for spec in self.options if spec.name == name)
        return self.source.options.get(name, spec.default)

    def _num(self, name: str) -> float:
        value = self._opt(name)
        try:
            return as_float(value, default=0.0)
        except (TypeError, ValueError):
            raise ConnectorError(f"option {name} must be a number, got {value!r}") from None

    def _client(self) -> SlackClient:
        return SlackClient(
            token=self.source.secrets.get("bot_token", ""), base_url=str(self._opt("api_base_url"))
        )

    # -- Events API ------------------------------------------------------------------------------------------
    def receive(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            raise WebhookRejected(405, "Slack events are POSTed")
        body = read_body(request)
        secret = require_secret(self.source, "signing_secret")
        stamp = request.headers.get("X-Slack-Request-Timestamp", "")
        if not (stamp.isascii() and stamp.isdigit()):  # "²".isdigit(), but int("²") fails
            raise WebhookRejected(403, "X-Slack-Request-Timestamp is missing or not a number")
        if abs(time.time() - int(stamp)) > MAX_CLOCK_SKEW:
            raise WebhookRejected(403, "X-Slack-Request-Timestamp is more than five minutes old (a replay?)")
        # The algorithm of slack_sdk's SignatureVerifier, but over bytes: that one decodes the body as UTF-8
        # first and crashes on a body that is not.
        signed = b"v0:" + stamp.encode() + b":" + body
        header = request.headers.get("X-Slack-Signature")
        if not signature_matches(secret=secret, message=signed, header_value=header, prefix="v0="):
            raise WebhookRejected(403, "X-Slack-Signature does not match v0:{timestamp}:{body}")
        payload, error = decode_json(body)
        if error:
            return accepted(
                quarantine_delivery(source=self.source, body=body, reason=error, position="delivery")
            )
        if not isinstance(payload, dict):
            reason = "an Events API delivery must be a JSON object"
            return accepted(
                quarantine_delivery(source=self.source, body=body, reason=reason, position="delivery")
            )
        kind = payload.get("type")
        if kind == "url_verification":
            challenge = payload.get("challenge")
            if not isinstance(challenge, str):
                raise WebhookRejected(400, "url_verification without a challenge")
            return JsonResponse({"challenge": challenge})
        if kind != "event_callback":
            return accepted(store_items(source=self.source, items=[], ignored=1))
        position = f"event {payload.get('event_id', '?')}"
        event = payload.get("event")
        if not isinstance(event, dict):
            reason = "event_callback without an event object"
            return accepted(
                quarantine_delivery(source=self.source, body=body, reason=reason, position=position)
            )
        wanted = channel_list(self._opt("channels"))
        if event.get("type") != "message" or (wanted and event.get("channel") not in wanted):
            return accepted(store_items(source=self.source, items=[], ignored=1))
        try:
            mention = parse_message(event, workspace_url=str(self._opt("workspace_url") or ""))
        except (ParseError, ValueError) as exc:
            return accepted(
                store_items(source=self.source, items=[Item(position, raw_of(payload), error=str(exc))])
            )
        if mention is None:
            return accepted(store_items(source=self.source, items=[], ignored=1))
        return accepted(
            store_items(source=self.source, items=[Item(position, raw_of(payload), mention=mention)])
        )

    # -- backfill --------------------------------------------------------------------------------------------
    def pull(self) -> PullResult:
        """Top-level messages of each channel since the last one seen (thread replies: Events API).

        `conversations.history` pages newest first. When `max_pages` run out before the last message seen
        (more new messages than the pages hold: a pull after a long back-off, a busy channel), the cursor
        keeps the last message seen and notes the oldest message read (`backlog`); the next pulls read on
        below it (`latest`) before taking the newest again, so no message between the two is skipped."""
        channels = channel_list(self._opt("channels"))
        if not channels:
            raise ConnectorError("no channels configured for this Slack source")
        start = str((timezone.now() - timedelta(days=self._num("backfill_days"))).timestamp())
        cursor = dict(self.source.cursor)
        latest: dict[str, str] = dict(cursor.get("latest_ts") or {})
        backlogs: dict[str, Any] = dict(cursor.get("backlog") or {})
        client = self._client()
        workspace = str(self._opt("workspace_url") or "")
        result = PullResult()
        for channel in channels:
            seen = latest.get(channel)
            oldest = seen or start
            backlog = backlogs.get(channel) if isinstance(backlogs.get(channel), dict) else None
            below = str(backlog["latest"]) if backlog and backlog.get("latest") else None
            newest = str(backlog["newest"]) if backlog and backlog.get("newest") else oldest
            lowest: str | None = None
            cut_off = False  # `max_pages` ran out with more messages left
            pages = client.history(
                channel=channel, oldest=oldest, latest=below, max_pages=int(self._num("max_pages"))
            )
            for page, more in pages:
                cut_off = more
                items: list[Item] = []
                for message in page:
                    ts = message.get("ts") if isinstance(message, dict) else None
                    if isinstance(ts, str) and (lowest is None or _ts_after(lowest, ts)):
                        lowest = ts
                    position = f"{channel} ts {ts}"
                    try:
                        mention = parse_message(message, channel=channel, workspace_url=workspace)
                    except (ParseError, ValueError) as exc:
                        items.append(Item(position, raw_of(message), error=str(exc)))
                        continue
                    if isinstance(ts, str) and _ts_after(ts, newest):
                        newest = ts
                    if mention is not None:
                        items.append(Item(position, raw_of(message), mention=mention))
                stored = store_items(source=self.source, items=items)
                result.created += stored.created
                result.duplicates += stored.duplicates
                result.quarantined += stored.quarantined
                result.mention_ids.extend(stored.mention_ids)
            if cut_off and seen and lowest:
                # The first pull reads back `max_pages` pages only, by design (as Discourse and X).
                backlogs[channel] = {"latest": lowest, "newest": newest}
            else:
                backlogs.pop(channel, None)
                latest[channel] = newest
            # Store progress channel by channel, so a failure on the next channel keeps this one's.
            progress = {**self.source.cursor, "latest_ts": dict(latest), "backlog": dict(backlogs)}
            if not backlogs:
                del progress["backlog"]
            source_set_cursor(source=self.source, cursor=progress)
        return result

    # -- reply -----------------------------------------------------------------------------------------------
    def reply(self, *, mention: Mention, text: str, key: SendKey | None = None) -> ReplyResult:
        if not text.strip():
            raise ConnectorError("a reply needs some text")
        channel, _, ts = (mention.thread_id or mention.external_id).partition(":")
        if not channel or not ts:
            raise ConnectorError("this Slack mention has no channel and timestamp to reply to")
        new_ts = self._client().post_reply(channel=channel, thread_ts=ts, text=text)
        workspace = str(self._opt("workspace_url") or "")
        return ReplyResult(external_id=f"{channel}:{new_ts}", url=message_url(workspace, channel, new_ts, ts))


def _ts_after(a: str, b: str) -> bool:
    try:
        return float(a) > float(b)
    except ValueError:
        return False
