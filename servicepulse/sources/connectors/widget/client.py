"""The widget's client is the browser: `embed.js` (beside this file) is served as static JavaScript at
`/sources/widget/<source name>/embed.js` and talks to the JSON endpoints next to it (`session/`, `reports/`).

A host page embeds it with::

    <div id="servicepulse-report"></div>
    <script src="https://pulse.example.ac.uk/sources/widget/portal/embed.js" async></script>

(`data-target="some-id"` on the script tag picks another element.)
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

EMBED_PATH = Path(__file__).with_name("embed.js")


@cache
def embed_script() -> str:
    return EMBED_PATH.read_text(encoding="utf-8")
