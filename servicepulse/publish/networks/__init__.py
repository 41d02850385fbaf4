"""The networks a blog post can be cross-posted to: how each counts length, treats links, and what it allows.

Each network module (`networks/<kind>.py`) posts through the connector's own client library (see
`servicepulse/sources/connectors/<kind>/client.py`) and offers:

    publish(source, text, link, title, summary) -> Remote        (raises ConnectorError)
    update(source, remote_id, text, link, title, summary) -> Remote | None
    delete(source, remote_id) -> None
    counts(source, remote_ids) -> {remote_id: Counts}            (where the network has an API for them)

`update`, `delete` and `counts` exist only where the network allows them; `NETWORKS[kind]` says which.
LinkedIn is not a listening source: it posts as the organisation configured by SERVICEPULSE_LINKEDIN_TOKEN and
SERVICEPULSE_LINKEDIN_ORGANIZATION, so its copies have no Source.
"""

from __future__ import annotations

import importlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import regex

from servicepulse.core.http import safe_url

# A link as the networks read one in a text: up to a space, without the punctuation that ends the sentence
# after it ("see https://x/post." or "(https://x/post)"), but keeping parentheses it holds in pairs
# ("https://en.wikipedia.org/wiki/Eduroam_(network)"). Mirrored in static/publish/crosspost.js.
URL_RE = re.compile(r"https?://(?:[^\s<>\"()]|\([^\s<>\"()]*\))+(?<![.,;:!?'\"])")


@dataclass(frozen=True)
class Remote:
    """What a network answered to a post or an edit."""

    remote_id: str
    url: str = ""  # the network's link to the post; anything but an http(s) address is dropped
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. a Bluesky post's cid, for replies and quotes

    def __post_init__(self) -> None:
        object.__setattr__(self, "url", safe_url(self.url))


@dataclass(frozen=True)
class Counts:
    likes: int = 0
    reposts: int = 0
    replies: int = 0
    quotes: int = 0


# -- length rules --------------------------------------------------------------------------------------------


def count_chars(text: str, *, link_length: int | None) -> int:
    """Unicode code points (after NFC), each URL counted as `link_length` when the network shortens links."""
    text = unicodedata.normalize("NFC", text)
    if link_length is None:
        return len(text)
    return len(URL_RE.sub("", text)) + link_length * len(URL_RE.findall(text))


def count_graphemes(text: str, *, link_length: int | None) -> int:
    """User-perceived characters (extended grapheme clusters), as Bluesky counts its 300."""
    text = unicodedata.normalize("NFC", text)
    if link_length is not None:
        links = URL_RE.findall(text)
        return len(regex.findall(r"\X", URL_RE.sub("", text))) + link_length * len(links)
    return len(regex.findall(r"\X", text))


# twitter-text v3 configuration: weight 100 for these ranges, 200 for everything else (CJK, emoji), scale 100.
_X_LIGHT = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))


# A domain written without http(s):// ("office.com", "moodle.northgate.ac.uk/help"), which twitter-text also
# counts as a 23-character link when its ending is a top-level domain.
_BARE_DOMAIN_RE = re.compile(
    r"(?<![\w@./-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}(?![\w-])(?:/[^\s<>\"]*)?", re.IGNORECASE
)


def _x_weight(text: str) -> int:
    weight = 0
    for cluster in regex.findall(r"\X", text):
        if regex.match(r"\p{Extended_Pictographic}", cluster):
            weight += 200  # an emoji sequence counts as one emoji, weight 2
            continue
        for ch in cluster:
            point = ord(ch)
            weight += 100 if any(lo <= point <= hi for lo, hi in _X_LIGHT) else 200
    return weight // 100


def count_x_weighted(text: str, *, link_length: int | None) -> int:
    """X's weighted length (twitter-text v3): most Latin characters 1, CJK and emoji 2, every URL 23 (t.co).
    A bare domain counts as the larger of 23 and its own length: without twitter-text's list of top-level
    domains we cannot tell which X takes for a link ("Node.js" is not), and the text must never be longer
    than X counts it."""
    text = unicodedata.normalize("NFC", text)
    links = URL_RE.findall(text)
    rest = URL_RE.sub(" ", text)  # a space keeps the text around a link from joining into a domain
    bare = _BARE_DOMAIN_RE.findall(rest)
    spaces = len(links)  # the placeholder spaces above are not in the text
    return (
        _x_weight(_BARE_DOMAIN_RE.sub("", rest)) - spaces
        + sum(max(23, _x_weight(domain)) for domain in bare)
        + (link_length or 23) * len(links)
    )  # fmt: skip


@dataclass(frozen=True)
class Network:
    kind: str
    label: str
    limit: int
    unit: str  # what `limit` counts, for people: "characters", "graphemes", "weighted characters"
    counter: Callable[..., int]
    link_length: int | None  # a link counts as this many, whatever its length (None: as written)
    link_in_text: bool = True  # False: the link goes in a separate field (Reddit's url, Facebook's link)
    can_update: bool = False
    can_delete: bool = True
    has_counts: bool = False
    note: str = ""

    def length(self, text: str) -> int:
        return self.counter(text, link_length=self.link_length)

    @property
    def rule(self) -> str:
        """The counting rule's name, for the preview page's live counter."""
        return self.counter.__name__

    def module(self) -> ModuleType:
        return importlib.import_module(f"{__name__}.{self.kind}")


NETWORKS: dict[str, Network] = {
    n.kind: n
    for n in (
        Network(
            "mastodon", "Mastodon", 500, "characters", count_chars, 23,
            can_update=True, has_counts=True,
            note="Links count as 23 characters; edits keep replies and boosts.",
        ),
        Network(
            "bluesky", "Bluesky", 300, "graphemes", count_graphemes, None,
            has_counts=True,
            note="300 graphemes, the link included as written; a link card is attached. Bluesky posts "
            "cannot be edited: delete and post again.",
        ),
        Network(
            "x", "X", 280, "weighted characters", count_x_weighted, 23,
            note="Every link counts as 23 (t.co); CJK and emoji count 2. Edits are not offered through the API.",
        ),
        Network(
            "reddit", "Reddit", 300, "characters", count_chars, None, link_in_text=False, has_counts=True,
            note="A link post to the subreddit set on the account (its rules permitting): the text is the "
            "title (300 characters). Link posts cannot be edited.",
        ),
        Network(
            "facebook", "Facebook Page", 63206, "characters", count_chars, None, link_in_text=False,
            can_update=True,
            note="Posted on the Page's feed with the link as its preview; message edits are allowed.",
        ),
        Network(
            "linkedin", "LinkedIn (organisation page)", 3000, "characters", count_chars, None,
            link_in_text=False, can_update=True,
            note="Posted as the organisation with an article link; needs SERVICEPULSE_LINKEDIN_TOKEN and "
            "SERVICEPULSE_LINKEDIN_ORGANIZATION.",
        ),
    )
}  # fmt: skip


def network_for(kind: str) -> Network | None:
    return NETWORKS.get(kind)


def draft_text(*, network: Network, title: str, summary: str, link: str) -> str:
    """The short form: title, as much of the summary as fits, and the link (where the link goes in the text),
    within the network's limit."""
    summary = " ".join(summary.split())
    tail = f"\n\n{link}" if network.link_in_text else ""
    if network.kind == "reddit":
        return _fit(network, title.strip(), "")
    head = title.strip()
    full = f"{head}\n\n{summary}{tail}" if summary else f"{head}{tail}"
    if network.length(full) <= network.limit:
        return full
    words = summary.split(" ")[: network.limit] if summary else []  # a word is at least one character

    def with_words(n: int) -> str:
        return f"{head}\n\n{' '.join(words[:n])}…{tail}"

    # The most words that fit (binary search: lengths grow with the word count).
    low, high = 0, len(words)
    while low < high:
        middle = (low + high + 1) // 2
        if network.length(with_words(middle)) <= network.limit:
            low = middle
        else:
            high = middle - 1
    if low:
        return with_words(low)
    return _fit(network, head, tail)


def _fit(network: Network, head: str, tail: str) -> str:
    if network.length(head + tail) <= network.limit:
        return head + tail
    low, high = 0, len(head)
    while low < high:
        middle = (low + high + 1) // 2
        if network.length(head[:middle] + "…" + tail) <= network.limit:
            low = middle
        else:
            high = middle - 1
    return _cut_at_word(head, low) + "…" + tail


def _cut_at_word(text: str, end: int) -> str:
    """`text[:end]`, shortened to the last whole word when `end` falls inside one (a single word longer
    than `end` is cut where it must be)."""
    kept = text[:end]
    if end < len(text) and not text[end].isspace():
        word_start = max(kept.rfind(" "), kept.rfind("\n"))
        if word_start > 0:
            kept = kept[:word_start]
    return kept.rstrip()


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters, cut after a whole word with an ellipsis when it is longer."""
    if len(text) <= limit:
        return text
    return _cut_at_word(text, limit - 1) + "…"
