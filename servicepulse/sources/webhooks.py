"""Shared machinery for webhook receivers (`/sources/hooks/<source name>/`).

A platform pushes a delivery; the source's connector `receive(request)` checks it and stores what it holds.
Every receiver follows the same order, which is what makes CSRF exemption safe:

1. size: a body over `SERVICEPULSE_WEBHOOK_MAX_BYTES` is refused with 413 before anything else is read;
2. authenticity: the platform's signature (HMAC of the raw body with the source's secret), compared in
   constant time; a missing or wrong signature is 403, as is a stale timestamp where the platform sends one;
3. content: a signed but malformed delivery, or one bad item inside a good delivery, goes to quarantine with
   its reason and the platform gets a 2xx (it would otherwise redeliver the same bad bytes for hours); the
   valid items beside it are stored;
4. idempotency: mentions are unique per (source, external id) and quarantine rows per (source, position,
   payload), so a redelivered webhook is stored once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import HttpRequest, JsonResponse

from servicepulse.core.ratelimit import client_address, rate_limit_count, rate_limit_hit
from servicepulse.mentions.services import MentionData, mentions_ingest, mentions_revise, quarantine_add
from servicepulse.sources.models import Source

DEFAULT_MAX_BYTES = 1024 * 1024


class WebhookRejected(Exception):
    """The delivery is refused as a whole: `status` is the HTTP answer (403 signature, 413 size, 400...)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


DEFAULT_FAILURES_PER_MINUTE = 30


def _failure_scope(source: Source) -> str:
    return f"hook-failures:{source.pk}"


def _failure_limit() -> int:
    return int(getattr(settings, "SERVICEPULSE_WEBHOOK_FAILURES_PER_MINUTE", DEFAULT_FAILURES_PER_MINUTE))


def failures_exceeded(source: Source, request: HttpRequest) -> bool:
    """True when this address sent too many refused deliveries for this source in the last minute.

    Only refusals count (bad signatures, stale timestamps, oversized bodies), so a platform delivering
    correctly signed events is never slowed; someone guessing signatures is, cheaply, through the cache.
    """
    seen = rate_limit_count(scope=_failure_scope(source), key=client_address(request), per=60)
    return seen >= _failure_limit()


def failure_record(source: Source, request: HttpRequest) -> None:
    rate_limit_hit(scope=_failure_scope(source), key=client_address(request), limit=_failure_limit(), per=60)


def webhook_max_bytes() -> int:
    return int(getattr(settings, "SERVICEPULSE_WEBHOOK_MAX_BYTES", DEFAULT_MAX_BYTES))


def read_body(request: HttpRequest, *, limit: int | None = None) -> bytes:
    """The raw body, or WebhookRejected(413) when it is larger than the limit (declared or actual)."""
    limit = webhook_max_bytes() if limit is None else limit
    declared = request.META.get("CONTENT_LENGTH") or "0"
    try:
        if int(declared) > limit:
            raise WebhookRejected(413, f"body of {declared} bytes is over the {limit}-byte limit")
    except ValueError:
        raise WebhookRejected(400, "Content-Length is not a number") from None
    try:
        body = request.body
    except RequestDataTooBig:
        raise WebhookRejected(413, f"body is over the {limit}-byte limit") from None
    if len(body) > limit:
        raise WebhookRejected(413, f"body of {len(body)} bytes is over the {limit}-byte limit")
    return body


def hmac_sha256_hex(secret: str | bytes, message: bytes) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def signature_matches(*, secret: str, message: bytes, header_value: str | None, prefix: str) -> bool:
    """True when the header is `prefix` + hex HMAC-SHA256 of `message` keyed by `secret` (constant time)."""
    if not secret or not header_value or not header_value.startswith(prefix):
        return False
    expected = prefix + hmac_sha256_hex(secret, message)
    return hmac.compare_digest(expected.encode(), header_value.strip().encode())


def require_secret(source: Source, name: str) -> str:
    """A webhook secret from the source's encrypted secrets; without one every delivery is refused."""
    value = source.secrets.get(name)
    if not isinstance(value, str) or not value:
        raise WebhookRejected(
            403, f"source {source.name!r} has no {name} configured, so no delivery can be trusted"
        )
    return value


def decode_json(body: bytes) -> tuple[Any, str]:
    """(payload, "") or (None, reason) for a body that is not UTF-8 JSON."""
    try:
        return json.loads(body.decode("utf-8")), ""
    except UnicodeDecodeError as exc:
        return None, f"body is not UTF-8 ({exc.reason} at byte {exc.start})"
    except json.JSONDecodeError as exc:
        return None, f"body is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
    except RecursionError:
        return None, "body is nested too deeply to read"


@dataclass(frozen=True)
class Item:
    """One item of a delivery: a mention, or the reason it could not be one (then it is quarantined)."""

    position: str
    raw: str
    mention: MentionData | None = None
    error: str = ""


@dataclass
class DeliveryResult:
    created: int = 0
    duplicates: int = 0
    quarantined: int = 0
    ignored: int = 0
    revised: int = 0
    # Posts with nothing to read (a sticker or photo without words): neither stored nor quarantined, counted
    # as a pull counts them (PullResult.skipped).
    skipped: int = 0
    mention_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        counts = {
            "created": self.created,
            "duplicates": self.duplicates,
            "quarantined": self.quarantined,
            "ignored": self.ignored,
        }
        if self.revised:
            counts["revised"] = self.revised
        if self.skipped:  # said when there are some, as the pull's counts do
            counts["skipped"] = self.skipped
        return counts


def raw_of(value: Any) -> str:
    """A stable text form of one item, for the quarantine row."""
    try:
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(value)


def store_items(
    *, source: Source, items: Iterable[Item], ignored: int = 0, skipped: int = 0, edits: bool = False
) -> DeliveryResult:
    """Store the valid items as mentions and quarantine the others, together, in one transaction. With
    `edits` (the platform reports edited posts), a post already stored takes the new text. `ignored` and
    `skipped` are only counted: what the connector left out on purpose and what had nothing to read."""
    result = DeliveryResult(ignored=ignored, skipped=skipped)
    good: list[MentionData] = []
    with transaction.atomic():
        for item in items:
            if item.mention is not None:
                good.append(item.mention)
            else:
                quarantine_add(source=source, raw=item.raw, reason=item.error, position=item.position)
                result.quarantined += 1
        ingest = mentions_ingest(source=source, items=good)
        if edits:
            result.revised = len(mentions_revise(source=source, items=good))
    result.created, result.duplicates, result.mention_ids = (
        ingest.created,
        ingest.duplicates,
        ingest.mention_ids,
    )
    return result


def quarantine_delivery(*, source: Source, body: bytes, reason: str, position: str) -> DeliveryResult:
    """Keep a whole malformed delivery (signed, so genuinely from the platform) with its reason."""
    quarantine_add(source=source, raw=body, reason=reason, position=position)
    return DeliveryResult(quarantined=1)


def accepted(result: DeliveryResult, *, status: int = 200) -> JsonResponse:
    return JsonResponse(result.as_dict(), status=status)
