from __future__ import annotations

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from servicepulse.core.ratelimit import rate_limit, rate_limit_hit


def test_hits_over_limit_are_refused_with_retry_after() -> None:
    cache.clear()

    @rate_limit("t", limit=2, per=60)
    def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse("ok")

    factory = RequestFactory()
    statuses = [view(factory.post("/", REMOTE_ADDR="10.0.0.1")).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    refused = view(factory.post("/", REMOTE_ADDR="10.0.0.1"))
    assert 1 <= int(refused["Retry-After"]) <= 60
    # another address has its own budget; GET is not limited by default
    assert view(factory.post("/", REMOTE_ADDR="10.0.0.2")).status_code == 200
    assert view(factory.get("/", REMOTE_ADDR="10.0.0.1")).status_code == 200


def test_scopes_are_separate() -> None:
    cache.clear()
    assert rate_limit_hit(scope="a", key="k", limit=1, per=60) is None
    assert rate_limit_hit(scope="b", key="k", limit=1, per=60) is None
    assert rate_limit_hit(scope="a", key="k", limit=1, per=60) is not None
