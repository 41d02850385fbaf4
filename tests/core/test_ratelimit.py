from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from servicepulse.core.ratelimit import rate_limit, rate_limit_hit


@pytest.mark.usefixtures("rate_limit_window")
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


@pytest.mark.usefixtures("rate_limit_window")
def test_an_ipv6_client_counts_by_its_64() -> None:
    # Security review: each address of a /64 (what one home or cloud host is given) had its own budget, so a
    # spammer took a fresh one for every comment, pingback or widget report.
    cache.clear()
    assert rate_limit_hit(scope="t6", key="2001:db8:1:2::1", limit=2, per=60) is None
    assert rate_limit_hit(scope="t6", key="2001:db8:1:2:ffff::9", limit=2, per=60) is None
    assert rate_limit_hit(scope="t6", key="2001:db8:1:2:abcd::7", limit=2, per=60) is not None
    assert rate_limit_hit(scope="t6", key="2001:db8:1:3::1", limit=2, per=60) is None  # another /64
    assert rate_limit_hit(scope="t6", key="::ffff:192.0.2.1", limit=1, per=60) is None
    assert rate_limit_hit(scope="t6", key="192.0.2.1", limit=1, per=60) is not None  # the same IPv4 client
    assert rate_limit_hit(scope="t6", key="someone@example.org", limit=1, per=60) is None  # not an address


@pytest.mark.usefixtures("rate_limit_window")
def test_scopes_are_separate() -> None:
    cache.clear()
    assert rate_limit_hit(scope="a", key="k", limit=1, per=60) is None
    assert rate_limit_hit(scope="b", key="k", limit=1, per=60) is None
    assert rate_limit_hit(scope="a", key="k", limit=1, per=60) is not None


def test_behind_a_trusted_proxy_each_client_has_its_own_budget(settings) -> None:  # type: ignore[no-untyped-def]
    from servicepulse.core.ratelimit import client_address

    factory = RequestFactory()

    def seen(remote: str, forwarded: str = "") -> str:
        extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
        return client_address(factory.post("/", REMOTE_ADDR=remote, **extra))

    settings.SERVICEPULSE_TRUSTED_PROXIES = []
    assert seen("10.0.0.5", "198.51.100.7") == "10.0.0.5"  # no proxy configured: the header is ignored
    settings.SERVICEPULSE_TRUSTED_PROXIES = ["10.0.0.0/24", "192.0.2.1"]
    assert seen("10.0.0.5", "198.51.100.7") == "198.51.100.7"
    # A client's own X-Forwarded-For is on the left: the nearest untrusted hop is the one the proxy saw.
    assert seen("10.0.0.5", "1.2.3.4, 198.51.100.7, 192.0.2.1") == "198.51.100.7"
    assert seen("203.0.113.9", "198.51.100.7") == "203.0.113.9"  # not from a proxy: the header is ignored
    assert seen("10.0.0.5") == "10.0.0.5"


@pytest.mark.usefixtures("rate_limit_window")
def test_the_cache_holds_no_address_or_email_in_clear() -> None:
    cache.clear()
    for key in ("203.0.113.77", "2001:db8:abcd:12::1", "sam.k@example.ac.uk"):
        assert rate_limit_hit(scope="widget:1", key=key, limit=1, per=60) is None
        assert rate_limit_hit(scope="widget:1", key=key, limit=1, per=60) is not None  # still counted

    stored = " ".join(str(k) for k in cache._cache)  # type: ignore[attr-defined]  # LocMemCache's own keys
    assert "rl:widget:1:" in stored
    for clear in ("203.0.113.77", "2001:db8:abcd:12", "sam.k"):
        assert clear not in stored


@pytest.mark.django_db
@pytest.mark.usefixtures("rate_limit_window")
def test_the_database_cache_keeps_counting_past_a_few_hundred_clients(settings) -> None:  # type: ignore[no-untyped-def]
    """Without REDIS_URL the cache is a database table, and Django culls a third of it, unexpired counters
    too, whenever it holds more than MAX_ENTRIES (300 by default): with a few hundred visitors in an hour (a
    portal embedding the report-a-problem widget counts every one) the rate limits forgot whom they had
    counted and let everyone through again, and the cached dashboard figures went with them."""
    from servicepulse.config.settings import base

    if "DatabaseCache" not in base.CACHES["default"]["BACKEND"]:
        pytest.skip("REDIS_URL is set: the cache is Redis")
    settings.CACHES = base.CACHES
    call_command("createcachetable", verbosity=0)  # as every `migrate` does (core/apps.py)
    cache.clear()
    assert rate_limit_hit(scope="t-many", key="192.0.2.1", limit=1, per=3600) is None
    for n in range(400):  # other visitors within the hour
        rate_limit_hit(scope="t-many", key=f"10.1.{n // 250}.{n % 250}", limit=1, per=3600)
    assert rate_limit_hit(scope="t-many", key="192.0.2.1", limit=1, per=3600) is not None
    cache.clear()
