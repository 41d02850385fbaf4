"""The local prefilter: Jetstream carries every post on the network, we keep only those about us.

Two stages. `quick()` looks at the raw message text (lower-cased) for any term at all — cheap enough for
thousands of events a second, and it decides for nearly every event. `matches()` then checks a decoded post
properly: a keyword as a whole word or phrase, a hashtag in the text or in the record's tag facets, or the
organisation's account mentioned (a mention facet) or replied to.
"""

from __future__ import annotations

import json
import re
from typing import Any


class Prefilter:
    def __init__(self, *, keywords: list[str], hashtags: list[str], account_did: str = "") -> None:
        self.keywords = [k.lower() for k in keywords if k.strip()]
        self.hashtags = [h.lower().lstrip("#") for h in hashtags if h.strip()]
        self.account_did = account_did.strip()
        terms = set(self.keywords) | set(self.hashtags)
        # A JSON encoder may escape non-ASCII or HTML characters (\u00e9, \u0026): look for that form too.
        escaped = {json.dumps(term)[1:-1].lower() for term in terms}
        html_safe = {
            term.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e") for term in terms
        }
        did = {self.account_did.lower()} if self.account_did else set()
        self._quick_terms = tuple(sorted(terms | escaped | html_safe | did))
        words = [re.escape(k) for k in self.keywords]
        self._keyword_re = (
            re.compile(r"(?<!\w)(?:" + "|".join(words) + r")(?!\w)", re.IGNORECASE) if words else None
        )
        tags = [re.escape(t) for t in self.hashtags]
        self._tag_re = (
            re.compile(r"(?<![\w#])#(?:" + "|".join(tags) + r")(?!\w)", re.IGNORECASE) if tags else None
        )

    @property
    def empty(self) -> bool:
        return not self._quick_terms

    def quick(self, lowered_message: str) -> bool:
        """Could this raw message (already lower-cased) be about us? False means certainly not."""
        return any(term in lowered_message for term in self._quick_terms)

    def matches(self, text: str, record: dict[str, Any]) -> bool:
        if self._keyword_re is not None and self._keyword_re.search(text):
            return True
        if self._tag_re is not None and self._tag_re.search(text):
            return True
        facets = record.get("facets")
        for facet in facets if isinstance(facets, list) else []:
            features = facet.get("features") if isinstance(facet, dict) else None
            for feature in features if isinstance(features, list) else []:
                if not isinstance(feature, dict):
                    continue
                kind = feature.get("$type", "")
                if (
                    kind == "app.bsky.richtext.facet#tag"
                    and str(feature.get("tag", "")).lower() in self.hashtags
                ):
                    return True
                if (
                    kind == "app.bsky.richtext.facet#mention"
                    and self.account_did
                    and feature.get("did") == self.account_did
                ):
                    return True
        if self.account_did:
            reply = record.get("reply")
            parent = reply.get("parent") if isinstance(reply, dict) else None
            parent_uri = str(parent.get("uri", "")) if isinstance(parent, dict) else ""
            if parent_uri.startswith(f"at://{self.account_did}/"):
                return True
        return False
