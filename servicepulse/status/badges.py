"""SVG badges for a component's state, in the familiar two-part "label | state" shape."""

from __future__ import annotations

from django.utils.html import escape

from servicepulse.status.models import ComponentState

COLOURS = {
    ComponentState.OPERATIONAL: "#1e7b45",
    ComponentState.MAINTENANCE: "#5a4bb3",
    ComponentState.DEGRADED: "#a25c00",
    ComponentState.PARTIAL_OUTAGE: "#c2410c",
    ComponentState.MAJOR_OUTAGE: "#b3261e",
}


def _width(text: str) -> int:
    # Verdana 11px averages about 6.5 px a character; padding 10 px each side.
    return int(len(text) * 6.5) + 20


def badge_svg(*, label: str, state: str) -> str:
    """A self-contained SVG (no external fonts or links) with an accessible title."""
    value = ComponentState(state).label.lower()
    lw, vw = _width(label), _width(value)
    total = lw + vw
    colour = COLOURS[ComponentState(state)]
    title = escape(f"{label}: {value}")
    label_e, value_e = escape(label), escape(value)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" '
        f'role="img" aria-label="{title}">'
        f"<title>{title}</title>"
        f'<rect width="{lw}" height="20" fill="#555"/>'
        f'<rect x="{lw}" width="{vw}" height="20" fill="{colour}"/>'
        f'<g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="{lw / 2}" y="14">{label_e}</text>'
        f'<text x="{lw + vw / 2}" y="14">{value_e}</text>'
        f"</g></svg>"
    )
