"""`{% crosspost_reactions post %}`: the post's copies on the networks with their likes and reposts."""

from __future__ import annotations

from typing import Any

from django import template

from servicepulse.publish.networks import NETWORKS
from servicepulse.publish.selectors import crosspost_reactions as reactions

register = template.Library()


@register.inclusion_tag("publish/_reactions.html")
def crosspost_reactions(post: Any) -> dict[str, Any]:
    copies = reactions(post=post)
    return {
        "copies": [{"copy": c, "label": NETWORKS[c.network].label} for c in copies],
        "likes": sum(c.likes for c in copies),
        "reposts": sum(c.reposts + c.quotes for c in copies),
    }
