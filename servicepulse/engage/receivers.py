"""Engage listens to new mentions for one thing: a person answering one of our replies with "stop"
(or "unsubscribe", "opt out", "don't reply") is opted out on that channel, at once."""

from __future__ import annotations

import logging
import re
from typing import Any

from django.db import DatabaseError
from django.db.models.functions import Length

from servicepulse.mentions.models import Mention

# The whole post must be the request ("stop", "STOP please", "@northgate_it unsubscribe"), so "stop breaking
# moodle" is not read as an opt-out.
STOP = re.compile(
    r"^\W*(?:@\S+\s+)*(?:please\s+)?(?:stop|unsubscribe|opt[\s-]?out|don'?t (?:reply|contact|message) me)"
    r"(?:\s+(?:please|thanks|thank you))?\W*$",
    re.IGNORECASE,
)
logger = logging.getLogger(__name__)
SHORT = 120  # an opt-out is a short answer, not a paragraph that happens to start with "stop"


def on_mentions_ingested(sender: Any, mention_ids: list[int], **kwargs: Any) -> None:
    try:
        _optouts(mention_ids)
    except DatabaseError as exc:  # the database went away: the ingestion says so next, no traceback here
        logger.warning("could not check %d new mentions for opt-outs: %s", len(mention_ids), exc)
    except Exception:  # ingestion must never fail because of this; the person can still be opted out by hand
        logger.exception("could not check %d new mentions for opt-outs", len(mention_ids))


def _optouts(mention_ids: list[int]) -> None:
    from servicepulse.engage.services import optouts_from_replies

    candidates = (
        Mention.objects.filter(pk__in=mention_ids)
        .annotate(length=Length("text"))
        .filter(length__lte=SHORT)
        .exclude(in_reply_to="", thread_id="")
        .only("id", "text")
    )
    ids = [m.pk for m in candidates if STOP.search(m.text)]
    if ids:
        optouts_from_replies(mention_ids=ids)


def on_author_exporting(
    sender: Any, *, author: str, mention_ids: list[int], source_id: int | None = None, **kwargs: Any
) -> dict[str, Any]:
    """A subject access request (`servicepulse export-author`): the person's requests not to be replied to.
    They are kept after an erasure (SECURITY.md), so they are theirs to see."""
    from servicepulse.engage.selectors import optouts_for_author

    return {
        "reply opt-outs": [
            {
                "source": optout.source.name,
                "reason": optout.reason,
                "created_at": optout.created_at.isoformat(),
            }
            for optout in optouts_for_author(author=author, mention_ids=mention_ids, source_id=source_id)
        ]
    }
