"""Normalisation: what the models read. The original text is kept by the caller; this returns a copy with
handles, URLs and e-mail addresses replaced by placeholder tokens, HTML entities decoded and whitespace
collapsed, so the models learn from what people say rather than from who or where."""

from __future__ import annotations

import html
import re
import unicodedata

URL_TOKEN = "http"  # noqa: S105 - a placeholder word, not a secret
EMAIL_TOKEN = "email"  # noqa: S105
HANDLE_TOKEN = "@user"  # noqa: S105

# An address or a bare link (bbc.co/news) starts only where its run of letters, digits, dots and hyphens starts,
# and never gives back what it has read (possessive quantifiers), so matching stays linear. The patterns they
# replace (`[\w.+-]+@...`, `\b[\w-]+(?:\.[\w-]+)*\.(?:com|...)/`) tried again from every dot or hyphen of a
# run and read it to its end each time: a post of "a.a.a..." (anyone can write one on a forum or page a source
# reads) held the analysis worker for 15 seconds per 20,000 characters. Both give the same text on all 67,273
# texts of the development data; they differ only on made-up runs (a link led by hyphens, "--bbc.co/x").
_TLD = r"(?:com|org|net|edu|ac\.uk|ly|io|co)"
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]++@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(
    rf"(?:https?://|www\.)\S+|(?<![\w-])(?<![\w-]\.)\b[\w-]++(?:\.(?!{_TLD}/)[\w-]++)*+\.{_TLD}/\S*", re.I
)
# A handle: @name not preceded by a word character (so e-mail addresses are not handles). Mastodon-style
# @name@server.example counts as one handle.
_HANDLE = re.compile(r"(?<![\w@])@[\w.]+(?:@[\w-]+(?:\.[\w-]+)+)?")
_SPACE = re.compile(r"\s+")
_CONTROL = {c: " " for c in range(32) if chr(c) not in "\t\n\r"}
# Apostrophes as phones and word processors type them (right and left single quotation marks, the modifier
# letter apostrophe), read as the plain one: "Ap'r Brifysgol" typed on a phone is the alias "Ap'r Brifysgol".
_APOSTROPHES = {0x2019: "'", 0x2018: "'", 0x02BC: "'"}


def normalise(text: str) -> str:
    """The text the models see: placeholders for e-mail addresses, URLs and @handles; whitespace collapsed."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, not {type(text).__name__}")
    text = unicodedata.normalize("NFC", html.unescape(text)).translate(_CONTROL)
    text = _EMAIL.sub(EMAIL_TOKEN, text)  # before handles and URLs: an address contains an @ and dots
    text = _URL.sub(URL_TOKEN, text)
    text = _HANDLE.sub(HANDLE_TOKEN, text)
    return _SPACE.sub(" ", text).strip()


def fold(text: str) -> str:
    """Lower case without accents, full-width letters as ASCII ones and curly apostrophes straight, for alias
    matching (``Résumé`` -> ``resume``)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold()).translate(_APOSTROPHES)
    return "".join(c for c in decomposed if not unicodedata.combining(c))
