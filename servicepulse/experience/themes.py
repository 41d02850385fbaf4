"""Complaint themes: the words and pairs of words that stand out in a service's complaints this week against
what people usually complain about (smoothed log-odds against a background), each with example posts."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from servicepulse.core.words import content_words, is_cjk


@dataclass(frozen=True)
class ThemePost:
    mention_id: int
    text: str
    author: str
    source: str
    created_at: datetime
    url: str = ""


@dataclass
class Theme:
    """A theme as pages show it: `label`, `count` (posts in it) and `example` (one post's text)."""

    label: str
    count: int
    terms: list[str] = field(default_factory=list)
    examples: list[ThemePost] = field(default_factory=list)
    service_id: str = ""
    service_name: str = ""

    @property
    def example(self) -> str:
        return self.examples[0].text if self.examples else ""


def terms_of(text: str, *, ignore: frozenset[str] = frozenset()) -> set[str]:
    """Unigrams and adjacent bigrams of a post (each counted once per post); Chinese and Japanese character
    pairs stand alone (two overlapping pairs are not a phrase)."""
    found = content_words(text, ignore=ignore)
    return set(found) | {
        f"{a} {b}" for a, b in itertools.pairwise(found) if a != b and not (is_cjk(a) or is_cjk(b))
    }


def themes_for(
    posts: Sequence[ThemePost],
    *,
    background: Sequence[str] = (),
    ignore: frozenset[str] = frozenset(),
    limit: int = 3,
    examples: int = 2,
    min_posts: int = 2,
) -> list[Theme]:
    """The `limit` terms most over-represented in `posts` (complaints) against `background` (other texts),
    each with how many posts use it and a few examples from different authors."""
    if not posts:
        return []
    post_terms = [terms_of(p.text, ignore=ignore) for p in posts]
    fg: Counter[str] = Counter()
    for ts in post_terms:
        fg.update(ts)
    bg: Counter[str] = Counter()
    for text in background:
        bg.update(terms_of(text, ignore=ignore))
    n_fg, n_bg = len(posts), max(len(background), 1)
    floor = max(min_posts, math.ceil(0.1 * n_fg))
    scored: list[tuple[float, str]] = []
    for term, count in fg.items():
        if count < floor:
            continue
        # Smoothed log-odds ratio of a post using the term, here against the background, weighted by how
        # many posts use it so one odd word in two posts does not beat a word in twenty.
        p_fg = (count + 0.5) / (n_fg + 1)
        p_bg = (bg.get(term, 0) + 0.5) / (n_bg + 1)
        bigram_bonus = 1.25 if " " in term else 1.0
        scored.append((math.log(p_fg / p_bg) * math.sqrt(count) * bigram_bonus, term))
    scored.sort(key=lambda x: (-x[0], x[1]))
    chosen: list[tuple[str, list[int]]] = []
    covered: set[int] = set()
    for score, term in scored:
        if score <= 0:
            break
        members = [i for i, ts in enumerate(post_terms) if term in ts]
        # A term whose posts are mostly those of a theme already chosen says the same thing again (the words
        # of one phrase, or the same template of complaint): skip it.
        if sum(i in covered for i in members) >= 0.6 * len(members):
            continue
        chosen.append((term, members))
        covered.update(members)
        if len(chosen) >= limit:
            break
    themes = []
    for term, members in chosen:
        picked: list[ThemePost] = []
        picked_words: list[set[str]] = []
        authors: set[str] = set()
        # Prefer posts of middling length (a sentence, not "same" and not an essay), from different people,
        # saying it in different words.
        for i in sorted(members, key=lambda i: (abs(len(posts[i].text) - 80), posts[i].mention_id)):
            post = posts[i]
            said = set(content_words(post.text))
            if post.author in authors or any(_jaccard(said, other) >= 0.5 for other in picked_words):
                continue
            authors.add(post.author)
            picked.append(post)
            picked_words.append(said)
            if len(picked) >= examples:
                break
        themes.append(Theme(label=term, count=len(members), terms=[term], examples=picked))
    return themes


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def theme_post(mention: Any) -> ThemePost:
    return ThemePost(
        mention_id=mention.id,
        text=mention.text,
        author=mention.author,
        source=mention.source.name,
        created_at=mention.created_at,
        url=mention.url,
    )
