"""The widget's client is the browser: `embed.js` (beside this file) is served as static JavaScript at
`/sources/widget/<source name>/embed.js` and talks to the JSON endpoints next to it (`session/`, `reports/`).

A host page embeds it with::

    <div id="servicepulse-report"></div>
    <script src="https://pulse.example.ac.uk/sources/widget/portal/embed.js" async></script>

(`data-target="some-id"` on the script tag picks another element.)
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

from servicepulse.sources.connectors.widget import wording
from servicepulse.sources.connectors.widget.wording import FormLanguage

EMBED_PATH = Path(__file__).with_name("embed.js")
# The one sentence the script carries itself (said when it cannot reach the session, which has every other).
_UNAVAILABLE = re.compile(r"^(  var UNAVAILABLE = )\{.*\};$", re.MULTILINE)


@cache
def _template() -> str:
    text = EMBED_PATH.read_text(encoding="utf-8")
    if len(_UNAVAILABLE.findall(text)) != 1:
        raise RuntimeError(f"{EMBED_PATH} has lost its UNAVAILABLE line")
    return text


@cache
def embed_script(language: FormLanguage = FormLanguage.ENGLISH) -> str:
    """The script, saying "the form is unavailable" in the form's language (in parts, each marked with its
    language, as the session's words are). JSON with every non-ASCII character escaped is a JavaScript
    literal, whatever the sentence holds."""
    said = {"lang": wording.html_lang(language), "parts": wording.say_parts(language, "unavailable")}
    literal = json.dumps(said, ensure_ascii=True)
    return _UNAVAILABLE.sub(lambda match: match.group(1) + literal + ";", _template(), count=1)
