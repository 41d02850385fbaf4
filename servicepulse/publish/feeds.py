"""The digest's Atom feed. Feed readers cannot sign in, so the URL carries a signed token naming the user
(shown on the digest page); the feed answers 403 without a valid token of a user who still has a role, or with
the token of a link the user has since replaced."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from servicepulse.accounts.roles import Role, has_role
from servicepulse.publish.models import Digest
from servicepulse.publish.selectors import digest_context, digest_feed_user, digest_list


class DigestFeed(Feed):
    feed_type = Atom1Feed
    title = "What peers and the industry discussed"
    subtitle = "servicepulse's weekly learning digest"

    def __call__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = digest_feed_user(token=request.GET.get("token", ""))
        if user is None:
            raise PermissionDenied(
                "a valid feed token is needed (copy the feed link from the digest page; "
                "making a new link there stops the earlier ones)"
            )
        if not user.is_active or not has_role(user, Role.VIEWER):
            raise PermissionDenied("this feed token's user has no access any more")
        return super().__call__(request, *args, **kwargs)

    # Links are absolute from SERVICEPULSE_BASE_URL, as on the status feed (Feed would otherwise prefix
    # the sites framework's domain). The feed's own address leaves out the token, which is a secret.
    def link(self) -> str:
        return f"{settings.BASE_URL}{reverse('publish:digest')}"

    def feed_url(self) -> str:
        return f"{settings.BASE_URL}{reverse('publish:digest_feed')}"

    def items(self) -> list[Digest]:
        return digest_list(limit=20)

    def item_title(self, item: Digest) -> str:
        return f"Week of {item.week_start:%d %B %Y}: " + "; ".join(t["name"] for t in item.topics[:3])

    def item_description(self, item: Digest) -> str:
        # Absolute links: a feed reader (like an e-mail) has no page to resolve "/services/…" against.
        context = {**digest_context(digest=item), "base_url": settings.BASE_URL}
        return render_to_string("publish/_digest_topics.html", context)

    def item_link(self, item: Digest) -> str:
        return f"{settings.BASE_URL}{reverse('publish:digest_week', kwargs={'week': item.week_start.isoformat()})}"

    def item_updateddate(self, item: Digest) -> Any:
        return item.generated_at

    def item_pubdate(self, item: Digest) -> Any:
        return item.generated_at
