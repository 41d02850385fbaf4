"""Replies that only agree with their thread ("same here", "+1", "it's not just you").

Downdetector counts each person who reports a problem; on social channels many people report by agreeing
under someone else's post. Such a reply says nothing of its own that a classifier could read (three words,
no service, often no verb), so `mentions_analyze` lets it take its thread's reading: the services (as for
every reply that names none) and, when the post it agrees with is a complaint, the complaint. The list
below is of common English agreement openings, not of any one community's wording.
"""

from __future__ import annotations

import re

# Fillers that may come first: "omg same", "yep, same here", "literally same".
_LEAD = r"(?:(?:omg|oh|ugh|argh|yep|yeah|yes|yup|lol|literally|honestly|seriously|ok|okay|so|and)[\s,.!]+)*"
_AGREE = (
    r"same(?:\s+(?:here|for me|with me|problem|issue|thing|again))?",
    r"me too",
    r"me as well",
    r"\+\s?1",
    r"ditto",
    r"mine too",
    r"mine(?: is|'s) the same",
    r"(?:it'?s )?not just you",
    r"(?:and )?i (?:thought|thot) it was (?:just )?me",
    r"(?:i'?m )?having the same (?:issue|problem|trouble)",
    r"(?:also )?(?:down|broken|not working|out) for me too",
    r"(?:it'?s )?happening to me too",
    r"can confirm",
)
_ME_TOO = re.compile(rf"^{_LEAD}(?:{'|'.join(_AGREE)})(?![\w'])", re.IGNORECASE)
_NOISE = re.compile(r"(?:@user|#\w+)")
_MAX_WORDS = 12  # "same here, but only since the update, and only on the app, ..." says more than agreement


def is_me_too(normalised: str) -> bool:
    """True when a (normalised) post only agrees with what it replies to: short, and opening with an
    agreement ("same here", "+1 for me", "me too, since this morning"). Handles and hashtags are ignored."""
    text = _NOISE.sub(" ", normalised.replace("\u2019", "'")).strip()  # curly apostrophes too
    words = text.split()
    return 0 < len(words) <= _MAX_WORDS and _ME_TOO.match(text) is not None
