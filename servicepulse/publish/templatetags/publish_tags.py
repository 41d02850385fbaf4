"""`{% crosspost_reactions post %}`: the post's copies on the networks with their likes and reposts, and for
responders and admins a link to the post's cross-posting page."""

from __future__ import annotations

from typing import Any

from django import template

from servicepulse.accounts.roles import Role, has_role
from servicepulse.publish.networks import NETWORKS
from servicepulse.publish.selectors import crosspost_reactions as reactions

register = template.Library()


@register.inclusion_tag("publish/_reactions.html", takes_context=True)
def crosspost_reactions(context: template.Context, post: Any) -> dict[str, Any]:
    copies = reactions(post=post)
    request = context.get("request")
    user = getattr(request, "user", None)
    return {
        "post": post,
        "copies": [{"copy": c, "label": NETWORKS[c.network].label} for c in copies],
        "likes": sum(c.likes for c in copies),
        "reposts": sum(c.reposts + c.quotes for c in copies),
        "can_crosspost": user is not None and has_role(user, Role.RESPONDER),
    }
