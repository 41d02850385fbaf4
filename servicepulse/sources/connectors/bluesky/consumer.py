"""The Jetstream consumer: prefilter, parse, store in small batches, and move the cursor (time_us) only
after the posts it covers are committed — so a restart replays from the cursor and loses nothing, and the
idempotent store drops what is replayed twice."""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from servicepulse.mentions.services import MentionData
from servicepulse.sources.connectors.bluesky.parse import Skip, Unreadable, parse_event
from servicepulse.sources.connectors.bluesky.prefilter import Prefilter
from servicepulse.sources.registry import PayloadError, PullResult, Rejected

logger = logging.getLogger(__name__)

_TIME_US = re.compile(r'"time_us"\s*:\s*(\d+)')
BATCH_SIZE = 200
FLUSH_SECONDS = 1.0
HEALTH_SECONDS = 60.0


@dataclass
class Counters:
    events: int = 0
    candidates: int = 0
    matched: int = 0


class JetstreamConsumer:
    def __init__(self, *, source: Any, prefilter: Prefilter) -> None:
        self.source = source
        self.prefilter = prefilter
        self.pending: list[MentionData] = []
        self.rejected: list[Rejected] = []
        self.time_us: int | None = (source.cursor or {}).get("time_us")
        self.dirty = False
        self.last_flush = time.monotonic()
        self.result = PullResult()
        self.counters = Counters()
        self.last_health = 0.0

    def process(self, message: str) -> int | None:
        """Handle one raw message; returns its time_us (None when it has none)."""
        self.counters.events += 1
        found = _TIME_US.search(message)
        time_us = int(found.group(1)) if found else None
        if time_us is not None and (self.time_us is None or time_us > self.time_us):
            self.time_us = time_us
            self.dirty = True
        if self.prefilter.quick(message.lower()):
            self.counters.candidates += 1
            self._candidate(message, time_us)
        if len(self.pending) >= BATCH_SIZE or time.monotonic() - self.last_flush >= FLUSH_SECONDS:
            self.flush()
        return time_us

    def _candidate(self, message: str, time_us: int | None) -> None:
        # Only messages that could be about us are decoded; a broken one among them is quarantined.
        try:
            event = json.loads(message)
            mention = parse_event(event)
        except Unreadable as exc:
            if self.prefilter.matches("", exc.record):  # about us (a reply to the account), but wordless
                self.result.skipped += 1
                logger.info("bluesky %s: skipped %s at time_us %s", self.source.name, exc, time_us)
            return
        except Skip:
            return
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            self.rejected.append(
                Rejected(raw=message, reason=f"event is not JSON ({exc})", position=f"time_us {time_us}")
            )
            return
        except PayloadError as exc:
            self.rejected.append(Rejected(raw=message, reason=str(exc), position=f"time_us {time_us}"))
            return
        if self.prefilter.matches(mention.text, event["commit"]["record"]):
            self.counters.matched += 1
            self.pending.append(mention)

    def flush(self) -> None:
        """Commit pending posts and quarantined events, then store the cursor they are covered by."""
        from servicepulse.sources.services import source_record_success, source_store

        self.last_flush = time.monotonic()
        if self.last_flush - self.last_health >= HEALTH_SECONDS and self.counters.events:
            # A long-lived stream shows as healthy while events flow, not only when it disconnects.
            source_record_success(source=self.source)
            self.last_health = self.last_flush
        if not (self.pending or self.rejected or self.dirty):
            return
        cursor = {**(self.source.cursor or {}), "time_us": self.time_us} if self.time_us is not None else None
        source_store(
            source=self.source,
            mentions=self.pending,
            rejected=self.rejected,
            cursor=cursor,
            result=self.result,
        )
        self.pending, self.rejected, self.dirty = [], [], False
