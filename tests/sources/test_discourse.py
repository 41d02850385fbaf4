"""Discourse connector: /posts.json through the guarded fetcher (httpx) against a loopback replay of the
forum's API, and the signed webhook receiver through Django's test client."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from servicepulse.mentions.models import Mention, Quarantine
from servicepulse.sources.connectors.discourse import category_ids
from servicepulse.sources.connectors.discourse.parse import parse_post
from servicepulse.sources.registry import ConnectorError, OutcomeUnknown, connector_for
from servicepulse.sources.services import source_create, source_sync
from tests.replay import ReplayServer, Reply

FIXTURES = Path(__file__).resolve().parents[2] / "servicepulse/sources/connectors/discourse/fixtures"
SECRET = "discourse-hook-secret"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def source(db):  # type: ignore[no-untyped-def]
    return source_create(
        kind="discourse",
        name="it-forum",
        options={
            "base_url": "http://127.0.0.1:1",
            "categories": "it-help/5",
            "webhook_secret": SECRET,
            "api_key": "d1sc0urse-key",
            "api_username": "itservicedesk",
        },
    )


def point_at(source, server: ReplayServer) -> None:  # type: ignore[no-untyped-def]
    source.options["base_url"] = server.url
    source.save()


def forum_routes() -> dict:
    return {
        ("GET", "/posts.json"): [Reply(200, body=fixture("posts_latest_page1.json"))],
        ("GET", "/posts.json?before=4008"): [Reply(200, body=fixture("posts_latest_page2.json"))],
        ("GET", "/posts.json?before=4006"): [Reply(200, body=fixture("posts_latest_empty.json"))],
    }


def test_category_option_forms() -> None:
    assert category_ids("it-help/5, wifi/7") == {5, 7}
    assert category_ids([5, "c/wifi/7/"]) == {5, 7}
    assert category_ids("") == set()
    with pytest.raises(ConnectorError):
        category_ids("it-help")
    with pytest.raises(ConnectorError, match="should be 'slug/id'"):
        category_ids("it-help/²")  # a digit to str.isdigit, not to int()


def test_pull_reads_chosen_categories_back_to_the_cursor(source) -> None:  # type: ignore[no-untyped-def]
    with ReplayServer(forum_routes()) as server:
        point_at(source, server)
        first = source_sync(source=source)
        second = source_sync(source=source)
    assert (first.created, first.quarantined) == (4, 1)  # 4012, 4010, 4008, 4007; 4006 has a bad date
    assert second.created == 0
    assert set(Mention.objects.values_list("external_id", flat=True)) == {"4012", "4010", "4008", "4007"}
    opener = Mention.objects.get(external_id="4008")
    assert opener.text.startswith(
        "VPN drops every ten minutes\n\nSince the weekend my VPN connection cuts out"
    )  # from cooked
    assert "&amp;" not in opener.text and "<strong>" not in opener.text
    assert opener.url == f"{server.url}/t/vpn-drops-every-ten-minutes/881/1"
    assert opener.thread_id == "topic:881" and opener.author == "jkowalski" and opener.author_id == "311"
    assert "created_at is not an ISO 8601 time" in Quarantine.objects.get(source=source).reason
    source.refresh_from_db()
    assert source.cursor == {"last_post_id": 4012}
    # The second pull stopped after one page: everything on it was already seen.
    assert [r.full_path for r in server.requests] == [
        "/posts.json",
        "/posts.json?before=4008",
        "/posts.json?before=4006",
        "/posts.json",
    ]
    assert server.requests[0].headers["Api-Key"] == "d1sc0urse-key"


def test_rate_limit_uses_retry_after_then_recovers(source) -> None:  # type: ignore[no-untyped-def]
    routes = forum_routes()
    routes[("GET", "/posts.json")] = [
        Reply(429, {"Retry-After": "38"}, fixture("error_rate_limit.json")),
        Reply(200, body=fixture("posts_latest_page1.json")),
    ]
    with ReplayServer(routes) as server:
        point_at(source, server)
        with pytest.raises(ConnectorError, match="rate limit") as caught:
            source_sync(source=source)
        assert caught.value.retry_after == 38
        assert source_sync(source=source).created == 4
    source.refresh_from_db()
    assert source.consecutive_failures == 0 and source.healthy


@pytest.mark.parametrize(
    "reply",
    [
        Reply(502, body=b"<html>Bad Gateway</html>"),
        Reply(200, body=fixture("posts_latest_page1.json"), truncate_at=300),
        Reply(200, body=b'{"latest_posts": {"not": "a list"}}'),
    ],
    ids=["server-error", "truncated", "wrong-shape"],
)
def test_broken_answers_fail_the_pull_and_keep_the_cursor(source, reply: Reply) -> None:  # type: ignore[no-untyped-def]
    with ReplayServer({("GET", "/posts.json"): [reply]}) as server:
        point_at(source, server)
        with pytest.raises(ConnectorError):
            source_sync(source=source)
    source.refresh_from_db()
    assert source.cursor == {} and Mention.objects.count() == 0 and source.last_error


def test_a_reply_the_forum_answers_too_late_may_have_been_posted(source, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from servicepulse.core.fetcher import fetch

    monkeypatch.setitem(fetch.__kwdefaults__, "timeout", 0.5)  # type: ignore[index]
    with ReplayServer(forum_routes()) as server:
        point_at(source, server)
        source_sync(source=source)
        server.add("POST", "/posts.json", Reply(200, body=fixture("post_created_reply.json"), delay=1.5))
        mention = Mention.objects.get(external_id="4012")
        with pytest.raises(OutcomeUnknown, match=r"did not answer POST /posts\.json"):
            connector_for(source).reply(mention=mention, text="Thanks all, a fix is rolling out.")
        assert len(server.requests_sent_to("/posts.json", "POST")) == 1


def test_reply_posts_in_the_topic(source) -> None:  # type: ignore[no-untyped-def]
    with ReplayServer(forum_routes()) as server:
        point_at(source, server)
        source_sync(source=source)
        server.add("POST", "/posts.json", Reply(200, body=fixture("post_created_reply.json")))
        mention = Mention.objects.get(external_id="4012")
        result = connector_for(source).reply(mention=mention, text="Thanks all, a fix is rolling out.")
    sent = next(r for r in server.requests if r.method == "POST")
    assert sent.json() == {
        "topic_id": 881,
        "raw": "Thanks all, a fix is rolling out.",
        "reply_to_post_number": 3,
    }
    assert sent.headers["Api-Username"] == "itservicedesk"
    assert result.external_id == "4015" and result.url.endswith("/t/vpn-drops-every-ten-minutes/881/5")


# -- webhook -------------------------------------------------------------------------------------------------


def deliver(
    client: Client,
    body: bytes,
    *,
    event: str = "post_created",
    signature: str | None = "auto",
    event_id: str = "77",
):  # type: ignore[no-untyped-def]
    headers = {
        "HTTP_X_DISCOURSE_EVENT": event,
        "HTTP_X_DISCOURSE_EVENT_TYPE": "post" if event.startswith("post") else event,
        "HTTP_X_DISCOURSE_EVENT_ID": event_id,
        "HTTP_X_DISCOURSE_INSTANCE": "https://forum.northgate.ac.uk",
    }
    if signature == "auto":
        signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    if signature is not None:
        headers["HTTP_X_DISCOURSE_EVENT_SIGNATURE"] = signature
    return client.post("/sources/hooks/it-forum/", data=body, content_type="application/json", **headers)


def test_webhook_post_created_is_stored_once(source, client: Client) -> None:  # type: ignore[no-untyped-def]
    body = fixture("webhook_post_created.json")
    first = deliver(client, body)
    again = deliver(client, body)
    assert first.status_code == 200 and first.json()["created"] == 1
    assert again.json()["duplicates"] == 1
    mention = Mention.objects.get(source=source)
    assert mention.external_id == "4013" and "eduroam-to-VPN handover" in mention.text


def test_webhook_post_edited_replaces_the_text_and_is_read_again(
    source, client: Client, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    from django_tasks_db.models import DBTaskResult

    body = fixture("webhook_post_created.json")
    deliver(client, body)
    payload = json.loads(body)
    payload["post"]["raw"] = "Update: the VPN handover works again after the fix."
    payload["post"]["cooked"] = "<p>Update: the VPN handover works again after the fix.</p>"
    payload["post"]["version"] = 2
    edited = json.dumps(payload).encode()
    with django_capture_on_commit_callbacks(execute=True):
        answer = deliver(client, edited, event="post_edited", event_id="78")
    assert answer.status_code == 200 and answer.json()["revised"] == 1  # the edit was lost as a duplicate
    mention = Mention.objects.get(source=source)
    assert mention.text == "Update: the VPN handover works again after the fix."
    queued = DBTaskResult.objects.filter(task_path__endswith="reanalyze_mentions")
    assert [row.args_kwargs["args"] for row in queued] == [[[mention.pk]]]
    assert "revised" not in deliver(client, edited, event="post_edited", event_id="78").json()  # redelivered


def test_webhook_ping_and_other_categories(source, client: Client) -> None:  # type: ignore[no-untyped-def]
    ping = deliver(client, fixture("webhook_ping.json"), event="ping")
    assert ping.status_code == 200 and ping.json() == {"ping": "OK"}
    other = deliver(client, fixture("webhook_post_other_category.json"))
    assert other.status_code == 200 and other.json()["ignored"] == 1
    assert Mention.objects.count() == 0


@pytest.mark.parametrize("signature", [None, "sha256=deadbeef", "sha1=" + "0" * 40, "sha256=" + "a" * 64])
def test_webhook_bad_signature_is_403(source, client: Client, signature: str | None) -> None:  # type: ignore[no-untyped-def]
    response = deliver(client, fixture("webhook_post_created.json"), signature=signature)
    assert response.status_code == 403 and Mention.objects.count() == 0


def test_webhook_without_configured_secret_refuses_everything(source, client: Client) -> None:  # type: ignore[no-untyped-def]
    source.set_secrets({"api_key": "x"})
    source.save()
    response = deliver(client, fixture("webhook_post_created.json"))
    assert response.status_code == 403


def test_webhook_oversized_is_413(source, client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SERVICEPULSE_WEBHOOK_MAX_BYTES = 1000
    response = deliver(client, fixture("webhook_post_created.json"))
    assert response.status_code == 413


@pytest.mark.parametrize(
    "body",
    [b'{"post": {"id": 9, "raw": "cut', b'{"topic": {"id": 3}}', b'{"post": {"id": "x", "category_id": 5}}'],
)
def test_webhook_malformed_post_is_quarantined_with_200(source, client: Client, body: bytes) -> None:  # type: ignore[no-untyped-def]
    response = deliver(client, body, event_id="91")
    assert response.status_code == 200 and response.json()["quarantined"] == 1
    kept = Quarantine.objects.get(source=source)
    assert kept.position.startswith("event 91") and kept.reason


# -- property tests ------------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)
posts = st.fixed_dictionaries(
    {},
    optional={
        "id": st.integers() | json_values,
        "topic_id": st.integers() | json_values,
        "raw": st.text(max_size=30) | json_values,
        "cooked": st.text(max_size=40) | json_values,
        "created_at": st.text(max_size=30) | json_values,
        "post_number": st.integers() | json_values,
        "topic_title": json_values,
        "topic_slug": json_values,
        "username": json_values,
        "user_id": json_values,
    },
)


@given(post=posts | json_values)
@hsettings(max_examples=300, deadline=None)
def test_parse_post_only_raises_parse_errors(post: object) -> None:
    try:
        result = parse_post(post, base_url="https://forum.example")
    except ValueError:
        return
    assert result.external_id.lstrip("-").isdigit()


@given(body=st.binary(max_size=300) | json_values.map(lambda v: json.dumps({"post": v}).encode()))
@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_signed_post_event_is_answered_200(source, client: Client, body: bytes) -> None:  # type: ignore[no-untyped-def]
    assert deliver(client, body).status_code == 200


def test_a_backlog_longer_than_max_pages_is_read_over_the_next_pulls(source) -> None:  # type: ignore[no-untyped-def]
    """More new posts than `max_pages` pages hold (a pull after a long back-off, exam week): the pulls that
    follow carry on where the walk stopped, instead of the cursor jumping to the newest post and the posts
    in between never being read. `GET /posts.json` lists the latest posts newest first, 50 a page, and
    `before=<post id>` the ones with a lower id (https://docs.discourse.org/#tag/Posts/operation/listPosts)."""
    template = json.loads(fixture("posts_latest_page1.json"))["latest_posts"][0]
    forum: list[dict] = []

    def add_posts(first: int, last: int) -> None:
        for n in range(first, last + 1):
            post = json.loads(json.dumps(template))
            post.update(id=n, post_number=2, raw=f"Eduroam keeps dropping in halls ({n})", cooked="")
            post["created_at"] = f"2026-11-2{3 + n // 1000}T{n // 60 % 24:02d}:{n % 60:02d}:00.000Z"
            forum.append(post)

    def posts(request):  # type: ignore[no-untyped-def]
        before = int(request.query.get("before", ["0"])[0]) or None
        older = [p for p in sorted(forum, key=lambda p: -p["id"]) if before is None or p["id"] < before]
        return Reply(200, body={"latest_posts": older[:50]})

    add_posts(1, 60)
    source.options["max_pages"] = 2
    with ReplayServer({("GET", "/posts.json"): [posts]}) as server:
        point_at(source, server)
        assert source_sync(source=source).created == 60
        add_posts(61, 310)  # 250 new posts: five pages, the pulls read two at a time
        created = [source_sync(source=source).created for _ in range(4)]
    assert created == [100, 100, 50, 0]
    assert Mention.objects.filter(source=source).count() == 310
    source.refresh_from_db()
    assert source.cursor == {"last_post_id": 310}
