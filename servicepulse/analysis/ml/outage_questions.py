"""Posts that ask whether a service is down ("is eduroam down?", "anyone else having trouble with moodle?").

"Is X down?" is how most people report an outage: it is what they type into Downdetector. The complaint
head, trained on tweets to customer-service accounts, reads many of these questions as neutral ones
("is eduroam down?": 0.02; "is moodle down or is it just me": 0.06), so the pipeline counts a post that
opens with such a question as a complaint whatever the head makes of it. The patterns are common English
ways of asking, not any one community's wording; each needs a word for a fault (down, broken, not working,
a problem, an outage, trouble), so "is it just me or is the new app faster?" and "is anyone else going to
the talk?" are not reports. On the development data the rule matches 5 tweets of the complaints set (all
labelled complaints) and 7 of the airline tweets (6 of them negative).
"""

from __future__ import annotations

import re

_FAULT = (
    r"(?:down(?! to\b)|broken|offline|dead|not working|not loading|playing up|acting up|crashing|crashed|"
    r"(?:really |so |very |super )?slow)"
)
_TROUBLE = r"(?:problems?|issues?|trouble|errors?|outages?|faults?)"
_LEAD = r"(?:(?:@user|hey|hi|so|ok|okay|um|erm|lol|guys|quick question)[\s,.!:]+)*"
_ASK = (
    rf"(?:is|are) (?:\S+\s+){{1,4}}?{_FAULT}(?![\w'])",  # "is the vpn down for anyone else?"
    rf"is it (?:just )?me,? or (?:\S+\s+){{1,6}}?{_FAULT}(?![\w'])",  # "is it just me or is wifi slow"
    rf"(?:is|are) there (?:an?|any) (?:known )?(?:\S+\s+){{0,3}}?{_TROUBLE}(?![\w'])",
    rf"(?:is )?any(?:one|body) else (?:having|getting|seeing|experiencing|got) (?:\S+\s+){{0,2}}?{_TROUBLE}"
    r"(?![\w'])",
    r"does (?:\S+\s+){1,6}?(?:work|load) for any(?:one|body)(?![\w'])",  # "does moodle work for anyone?"
)
_ASKS = re.compile(rf"^{_LEAD}(?:{'|'.join(_ASK)})", re.IGNORECASE)


def asks_if_down(normalised: str) -> bool:
    """True when a (normalised) post opens by asking whether something is down or has a problem."""
    return _ASKS.match(normalised.replace("\u2019", "'").strip()) is not None
