"""The cross-post preview's live counter (publish/static/publish/crosspost.js) in a real browser counts as the
server does (publish.networks): a draft the page shows as fitting is not refused when sent, and one it shows
over the limit is not one the network would take."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pytest

from servicepulse.publish.networks import NETWORKS
from tests.dashboard.browser import BROWSER_MARKS

pytestmark = BROWSER_MARKS
SCRIPT = Path(__file__).resolve().parents[2] / "servicepulse/publish/static/publish/crosspost.js"
TEXTS = [
    "Wi-Fi upgrade in the library this weekend: https://it.example.ac.uk/blog/wifi-upgrade.",
    "(details: https://it.example.ac.uk/faq) and https://en.wikipedia.org/wiki/Eduroam_(network), ok?",
    "Sign in at office.com or moodle.northgate.ac.uk — 日本語のお知らせ 👩‍👩‍👧‍👦 👍🏽 café",
    "Mail it@northgate.ac.uk, or see https://it.example.ac.uk/a?b=1&c=2; thanks!",
]


@pytest.mark.parametrize("network", sorted(NETWORKS))
def test_the_live_counter_counts_as_the_server_does(page: Any, network: str) -> None:
    spec = NETWORKS[network]
    areas = "".join(
        f'<textarea id="t{i}" data-limit="{spec.limit}" data-unit="{spec.unit}" data-rule="{spec.rule}" '
        f'data-link-length="{spec.link_length if spec.link_length is not None else ""}" data-counter="c{i}">'
        f'{html.escape(text)}</textarea><output id="c{i}"></output>'
        for i, text in enumerate(TEXTS)
    )
    page.set_content(f"<!doctype html><meta charset='utf-8'><body>{areas}</body>")
    page.add_script_tag(content=SCRIPT.read_text(encoding="utf-8"))
    shown = [page.locator(f"#c{i}").text_content() for i in range(len(TEXTS))]
    assert shown == [f"{spec.length(text)} / {spec.limit} {spec.unit}" for text in TEXTS]
