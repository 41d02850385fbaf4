"""The status page's Atom feed (RFC 4287), through Django's syndication framework."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import HttpRequest
from django.template.defaultfilters import linebreaksbr
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape

from servicepulse.core.times import local_time_text
from servicepulse.status.models import Maintenance, PublicIncident
from servicepulse.status.selectors import feed_items, status_url


class StatusAtomFeed(Feed):
    feed_type = Atom1Feed

    def __call__(self, request: HttpRequest, *args, **kwargs):  # type: ignore[no-untyped-def]
        response = super().__call__(request, *args, **kwargs)
        response["Cache-Control"] = "public, max-age=60"
        return response

    def title(self) -> str:
        return f"{settings.SERVICEPULSE_ORGANISATION} IT status"

    def subtitle(self) -> str:
        return "Incidents and maintenance for our IT services"

    def link(self) -> str:
        return status_url()

    def feed_url(self) -> str:
        return f"{settings.BASE_URL}/status/feed/"

    def feed_guid(self) -> str:
        return f"{settings.BASE_URL}/status/feed/"

    def author_name(self) -> str:
        return settings.SERVICEPULSE_ORGANISATION

    def items(self) -> list[PublicIncident | Maintenance]:
        return feed_items()

    def item_title(self, item: PublicIncident | Maintenance) -> str:
        if isinstance(item, Maintenance):
            return f"Maintenance{' cancelled' if item.cancelled_at else ''}: {item.title}"
        return item.title

    def item_link(self, item: PublicIncident | Maintenance) -> str:
        if isinstance(item, Maintenance):
            return f"{status_url()}maintenance/{item.pk}/"
        return status_url(incident=item)

    def item_guid(self, item: PublicIncident | Maintenance) -> str:
        return self.item_link(item)  # the item's permanent page: a valid, stable atom:id

    def item_description(self, item: PublicIncident | Maintenance) -> str:
        if isinstance(item, Maintenance):
            # Each end names its own zone: a window across a clock change starts in another offset than it ends.
            start, end = local_time_text(item.starts_at), local_time_text(item.ends_at)
            parts = [f"<p><strong>Scheduled</strong> {start} \u2013 {end}</p>"]
            if item.body:
                parts.append(f"<p>{linebreaksbr(escape(item.body))}</p>")
            parts.append(f"<p>Components: {escape(', '.join(s.name for s in item.services.all()))}</p>")
            return "".join(parts)
        parts = [
            f"<p><small>{local_time_text(u.created_at)}</small><br>"
            f"<strong>{escape(u.get_status_display())}</strong> - {linebreaksbr(escape(u.body))}</p>"
            for u in item.updates.all()
        ]
        parts.append(f"<p>Components: {escape(', '.join(s.name for s in item.services.all()))}</p>")
        return "".join(parts)

    def item_pubdate(self, item: PublicIncident | Maintenance) -> datetime:
        return item.created_at if isinstance(item, Maintenance) else item.started_at

    def item_updateddate(self, item: PublicIncident | Maintenance) -> datetime:
        if isinstance(item, PublicIncident):
            latest = next(iter(item.updates.all()), None)
            return latest.created_at if latest is not None else item.started_at
        return item.updated_at

    def item_categories(self, item: PublicIncident | Maintenance) -> list[str]:
        return [s.name for s in item.services.all()]
