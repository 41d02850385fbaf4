"""Turning platform markup into the plain text a mention stores."""

from __future__ import annotations

import html
import re

import nh3

_BREAKS = re.compile(r"(?i)<\s*(br\s*/?|/p|/div|/li|/h[1-6]|/blockquote)\s*>")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_LINES = re.compile(r"\n\s*\n+")


def html_to_text(markup: str) -> str:
    """Plain text from HTML (statuses, feed summaries): tags dropped, entities decoded, paragraphs kept."""
    if not markup:
        return ""
    marked = _BREAKS.sub("\n", markup)
    text = html.unescape(nh3.clean(marked, tags=set(), clean_content_tags={"script", "style"}))
    text = _SPACES.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    return _LINES.sub("\n\n", text).strip()
