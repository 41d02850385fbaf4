"""People's words on the pages, e-mails and PDFs: in their own direction, and shortened without breaking a
character apart.

`text_dir` gives "rtl" or "ltr" from the text's first letter with a direction (as dir="auto" does, but
after leading @handles and links, which open many posts, and written out, so mail clients and the PDF, which
ignore dir="auto", get it too): Arabic or Hebrew in an English page keeps its punctuation where its writer put
it. `truncategraphemes` cuts at a whole user-perceived character (an emoji with its skin tone or ZWJ sequence,
a flag such as Wales', a letter with its accents), where Django's truncatechars counts code points and could
leave half a flag behind."""

from __future__ import annotations

import re
import unicodedata

import regex
from django import template

register = template.Library()

ELLIPSIS = "…"
_LEADING = re.compile(r"\s*(?:[@\uff20]\S+|https?://\S+|www\.\S+)", re.IGNORECASE)
_GRAPHEME = regex.compile(r"\X")


@register.filter
def text_dir(text: object) -> str:
    """ "rtl" when the first letter with a direction (after leading @handles and links) is right-to-left."""
    value = str(text or "")
    position = 0
    while match := _LEADING.match(value, position):
        position = match.end()
    for candidate in (value[position:], value):  # a post that is only handles and links: its first letter
        for char in candidate:
            kind = unicodedata.bidirectional(char)
            if kind == "L":
                return "ltr"
            if kind in ("R", "AL"):
                return "rtl"
    return "ltr"


@register.filter
def truncategraphemes(text: object, length: int) -> str:
    """`text` cut to at most `length` user-perceived characters, the ellipsis included (as truncatechars)."""
    value = str(text or "")
    limit = int(length)
    if len(value) <= limit:  # never more graphemes than code points
        return value
    clusters = _GRAPHEME.findall(value)
    if len(clusters) <= limit:
        return value
    return "".join(clusters[: max(limit - 1, 0)]).rstrip() + ELLIPSIS
