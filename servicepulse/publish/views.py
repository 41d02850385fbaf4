from __future__ import annotations

from datetime import date

from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from servicepulse.accounts.roles import Role, role_required
from servicepulse.publish.feeds import FEED_SALT
from servicepulse.publish.models import Digest
from servicepulse.publish.selectors import digest_context, digest_latest, digest_list


def _page(request: HttpRequest, digest: Digest | None) -> HttpResponse:
    context = digest_context(digest=digest) if digest is not None else {"digest": None, "topics": []}
    token = signing.dumps(request.user.pk, salt=FEED_SALT)
    context["feed_url"] = request.build_absolute_uri(reverse("publish:digest_feed") + f"?token={token}")
    context["archive"] = digest_list()
    return render(request, "publish/digest.html", context)


@role_required(Role.VIEWER)
def digest_current(request: HttpRequest) -> HttpResponse:
    return _page(request, digest_latest())


@role_required(Role.VIEWER)
def digest_week(request: HttpRequest, week: str) -> HttpResponse:
    try:
        week_start = date.fromisoformat(week)
    except ValueError:
        raise Http404("not a date") from None
    return _page(request, get_object_or_404(Digest, week_start=week_start))
