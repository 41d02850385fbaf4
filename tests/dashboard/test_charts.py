"""The service page's charts draw inside their own box."""

from __future__ import annotations

import re

from servicepulse.dashboard.charts import volume_chart


def test_every_volume_tick_and_its_label_are_inside_the_chart() -> None:
    # A highest day of 14 gives ticks 0, 5, 10, 15: the 15 line was drawn above the top edge (y < 0) and
    # its label cut in half, on the service page of most services.
    svg = str(volume_chart(["1", "2", "3"], [3, 14, 6], [4.0, 9.5, 5.0], label="test"))
    height = float(re.search(r'viewBox="0 0 \d+ (\d+)"', svg).group(1))  # type: ignore[union-attr]
    labels = re.findall(r'<text x="[\d.]+" y="([\d.-]+)" font-size="11" text-anchor="end"[^>]*>(\d+)<', svg)
    assert [text for _, text in labels] == ["0", "5", "10", "15"]
    for y, _ in labels:
        assert 11 <= float(y) <= height  # the text's baseline leaves room for its 11px glyphs
    grid = [float(y) for y in re.findall(r'<line x1="[\d.]+" x2="[\d.]+" y1="([\d.-]+)"', svg)]
    assert min(grid) >= 0
