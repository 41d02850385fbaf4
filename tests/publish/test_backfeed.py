"""Backfeed: replies to a copy come back through the connector's normal pull as blog comments held for
moderation, show under the post once approved (with a link to the original), likes and reposts are counted,
and a blog reply to such a comment is posted back through the connector's reply()."""

from __future__ import annotations

import pytest
from django.test import TestCase

from servicepulse.blog.models import Comment, CommentStatus
from servicepulse.blog.services import comment_submit, comments_moderate
from servicepulse.mentions.services import MentionData, mentions_ingest
from servicepulse.publish.backfeed import backfeed_scan, postback_request
from servicepulse.publish.crosspost import crosspost_counts_refresh, target_set
from servicepulse.publish.models import Backfeed, BackfeedKind, CrossPost, PostBack, PostBackState
from servicepulse.sources.services import source_sync
from tests.publish.conftest import fixture
from tests.publish.test_crosspost import AUTO, bluesky_account, mastodon_account, publish_post, routes_ok
from tests.replay import ReplayServer, Reply

pytestmark = pytest.mark.django_db
COPY = "113600000000000100"


def test_replies_come_back_held_then_show_under_the_post(run_publish_tasks, client, users) -> None:  # type: ignore[no-untyped-def]
    routes = routes_ok()
    routes[("GET", "/api/v1/notifications")] = [
        Reply(200, body=fixture("mastodon_notifications_replies.json"))
    ]
    routes[("GET", f"/api/v1/statuses/{COPY}")] = [Reply(200, body=fixture("mastodon_status_counts.json"))]
    with ReplayServer(routes) as server:
        account = mastodon_account(server.url)
        target_set(network="mastodon", source=account, mode=AUTO)
        post = publish_post()
        assert run_publish_tasks() == ["sent"]

        # The connector's ordinary pull (mention notifications) brings the replies in as mentions...
        with TestCase.captureOnCommitCallbacks(execute=True):
            assert source_sync(source=account).created == 3
        # ...and the scan enqueued for this account turns the two replies to the copy into held comments.
        assert run_publish_tasks() == [2]
        comments = list(Comment.objects.filter(post=post).order_by("created_at"))
        assert [c.author_name for c in comments] == ["Raj P", "Lena Ortiz"]
        assert all(c.status == CommentStatus.PENDING for c in comments)
        assert comments[0].source_url == "https://fosstodon.example/@raj/113600000000000201"
        assert comments[0].author_url == "https://fosstodon.example/@raj"
        assert "Will quizzes that close on the 23rd still run?" in comments[0].body
        assert set(Backfeed.objects.values_list("kind", flat=True)) == {BackfeedKind.REPLY}
        assert backfeed_scan(source=account) == 0  # seen once: a second scan adds nothing

        page = client.get(post.get_absolute_url()).content.decode()
        assert "Will quizzes" not in page  # held for moderation

        comments_moderate(comment_ids=[comments[0].pk], decision="approved", moderator=users["admin"])
        assert crosspost_counts_refresh() == 1
        page = client.get(post.get_absolute_url()).content.decode()
        assert "Will quizzes that close on the 23rd still run?" in page
        assert 'href="https://fosstodon.example/@raj/113600000000000201">original</a>' in page
        assert "Thanks for the early warning" not in page  # still pending
        assert "7 likes and 3 reposts" in page
        assert f'href="https://mastodon.northfield.example/@northfieldit/{COPY}"' in page

        # The leader answers on the blog; the answer goes back to Mastodon as a reply to Raj.
        server.add("POST", "/api/v1/statuses", Reply(200, body=fixture("mastodon_status_reply_back.json")))
        answer = comment_submit(
            post=post, body="Yes: quizzes keep running; only editing is paused.", user=users["admin"],
            parent=comments[0],
        )  # fmt: skip
        assert answer.status == CommentStatus.APPROVED
        with TestCase.captureOnCommitCallbacks(execute=True):
            postback_request(comment=answer)
        assert run_publish_tasks() == ["sent"]
        sent = server.requests_to("/api/v1/statuses")[-1].form()
        assert sent["in_reply_to_id"] == ["113600000000000201"]
        assert (
            sent["status"][0] == "@raj@fosstodon.example Yes: quizzes keep running; only editing is paused."
        )
        postback = PostBack.objects.get(comment=answer)
        assert postback.state == PostBackState.SENT
        assert postback.remote_url == "https://mastodon.northfield.example/@northfieldit/113600000000000300"
        # Named after its row, so a try after a timeout gets Mastodon's status back rather than a second one.
        posted = server.requests_to("/api/v1/statuses")[-1]
        assert posted.headers["Idempotency-Key"] == f"servicepulse-postback-{postback.pk}"
        assert postback.first_tried_at is not None

        # Our own answer, seen again in a later pull, is not fed back as a comment.
        assert backfeed_scan(source=account) == 0

        client.force_login(users["responder"])
        preview = client.get(f"/publish/posts/{post.slug}/").content.decode()
        assert "Replies from the networks" in preview and postback.remote_url in preview
        assert "(reply on Mastodon," in preview  # the network's name, not its internal kind


def test_postback_refused_is_shown_and_can_be_asked_again(run_publish_tasks, users) -> None:  # type: ignore[no-untyped-def]
    routes = routes_ok()
    routes[("GET", "/api/v1/notifications")] = [
        Reply(200, body=fixture("mastodon_notifications_replies.json"))
    ]
    with ReplayServer(routes) as server:
        account = mastodon_account(server.url)
        target_set(network="mastodon", source=account, mode=AUTO)
        post = publish_post()
        run_publish_tasks()
        source_sync(source=account)
        backfeed_scan(source=account)
        raj = Comment.objects.get(post=post, author_name="Raj P")
        comments_moderate(comment_ids=[raj.pk], decision="approved", moderator=users["admin"])
        answer = comment_submit(post=post, body="Yes.", user=users["admin"], parent=raj)
        server.add("POST", "/api/v1/statuses", Reply(422, body=fixture("mastodon_error_422.json")))
        with TestCase.captureOnCommitCallbacks(execute=True):
            postback_request(comment=answer)
        assert run_publish_tasks() == ["failed"]
        assert "HTTP 422" in PostBack.objects.get(comment=answer).error
        server.add("POST", "/api/v1/statuses", Reply(200, body=fixture("mastodon_status_reply_back.json")))
        with TestCase.captureOnCommitCallbacks(execute=True):
            postback_request(comment=answer)
        assert run_publish_tasks() == ["sent"]


def test_bluesky_reply_and_quote_come_back_and_counts_from_get_posts(run_publish_tasks) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    routes = routes_ok()
    routes[("GET", "/xrpc/app.bsky.feed.getPosts")] = [Reply(200, body=fixture("bluesky_get_posts.json"))]
    with ReplayServer(routes) as server:
        account = bluesky_account(server.url)
        target_set(network="bluesky", source=account, mode=AUTO)
        post = publish_post()
        run_publish_tasks()
        copy = CrossPost.objects.get(post=post)
        uri = copy.remote_id
        ref = {"uri": uri, "cid": copy.remote_extra["cid"]}
        when = datetime(2026, 11, 26, 10, tzinfo=UTC)
        # What the Bluesky connector stores from Jetstream commits (see its parse.py): a reply and a quote.
        mentions_ingest(
            source=account,
            items=[
                MentionData(
                    external_id="at://did:plc:student000000000000000001/app.bsky.feed.post/3lreply000001",
                    text="Does read-only include the gradebook?", author="sam.bsky.social", created_at=when,
                    in_reply_to=uri, thread_id=uri,
                    url="https://bsky.app/profile/did:plc:student000000000000000001/post/3lreply000001",
                    raw={"commit": {"record": {"reply": {"parent": ref, "root": ref}}, "cid": "bafyreireply"}},
                ),
                MentionData(
                    external_id="at://did:plc:peer00000000000000000001/app.bsky.feed.post/3lquote000001",
                    text="Good model for announcing a VLE freeze.", author="cio.example.edu", created_at=when,
                    url="https://bsky.app/profile/did:plc:peer00000000000000000001/post/3lquote000001",
                    raw={"commit": {"record": {"embed": {"$type": "app.bsky.embed.record", "record": ref}}}},
                ),
            ],
        )  # fmt: skip
        assert backfeed_scan(source=account) == 2
        kinds = dict(Backfeed.objects.values_list("mention__author", "kind"))
        assert kinds == {"sam.bsky.social": BackfeedKind.REPLY, "cio.example.edu": BackfeedKind.QUOTE}
        assert crosspost_counts_refresh() == 1
        query = server.requests_to("/xrpc/app.bsky.feed.getPosts")[0].full_path
        assert "uris=at://did:plc:northfieldituni0000000000/app.bsky.feed.post/3lcopypost001" in query
    copy.refresh_from_db()
    assert (copy.likes, copy.reposts, copy.replies, copy.quotes) == (11, 4, 1, 1)


def test_bluesky_reply_through_jetstream_and_answer_posted_back(run_publish_tasks, users) -> None:  # type: ignore[no-untyped-def]
    import threading

    from servicepulse.sources.registry import connector_for
    from servicepulse.sources.services import source_create, source_set_cursor
    from tests.publish.conftest import NETWORK_FIXTURES
    from tests.replay import WebSocketReplayServer

    lines = (NETWORK_FIXTURES / "bluesky_jetstream_replies.jsonl").read_text().splitlines()
    routes = routes_ok()
    routes[("POST", "/xrpc/com.atproto.repo.createRecord")] = [
        Reply(200, body=fixture("bluesky_create_record.json")),
        Reply(200, body=fixture("bluesky_create_record_reply.json")),
    ]
    org = "did:plc:northfieldituni0000000000"
    with WebSocketReplayServer(messages=lines) as ws, ReplayServer(routes) as pds:
        account = source_create(
            kind="bluesky", name="Bluesky northfieldit",
            options={"account_did": org, "jetstream_url": ws.url + "/subscribe", "handle": "northfieldit.bsky.social",
                     "app_password": "abcd-efgh-ijkl-mnop", "pds_url": pds.url},
        )  # fmt: skip
        source_set_cursor(source=account, cursor={"time_us": 1795640400000000})
        target_set(network="bluesky", source=account, mode=AUTO)
        post = publish_post()
        assert run_publish_tasks() == ["sent"]

        # The connector's own stream keeps the reply (it answers the account) and drops the rest.
        with TestCase.captureOnCommitCallbacks(execute=True):
            connector_for(account).stream(stop=threading.Event(), max_reconnects=0)
        assert run_publish_tasks() == [1]
        question = Comment.objects.get(post=post)
        assert question.status == CommentStatus.PENDING and "gradebook" in question.body
        assert question.source_url.endswith("/post/3lcreply00001")

        comments_moderate(comment_ids=[question.pk], decision="approved", moderator=users["admin"])
        answer = comment_submit(post=post, body="No: grades stay open.", user=users["admin"], parent=question)
        with TestCase.captureOnCommitCallbacks(execute=True):
            postback_request(comment=answer)
        assert run_publish_tasks() == ["sent"]
        record = pds.requests_to("/xrpc/com.atproto.repo.createRecord")[-1].json()["record"]
        assert record["text"] == "No: grades stay open."
        assert record["reply"]["parent"]["uri"].endswith("/3lcreply00001")
        assert record["reply"]["root"]["uri"] == f"at://{org}/app.bsky.feed.post/3lcopypost001"
    assert PostBack.objects.get(comment=answer).remote_url.endswith("/post/3lcanswer0001")


def test_backfed_replies_are_held_and_blocklisted_ones_are_spam() -> None:
    from servicepulse.blog.models import WordListKind
    from servicepulse.blog.services import comment_from_elsewhere, word_list_set
    from tests.publish.test_crosspost import publish_post as make_post

    post = make_post()
    word_list_set(kind=WordListKind.BLOCKLIST, terms=["cheap-pills"])
    held, _ = comment_from_elsewhere(post=post, key="k1", body="When is the freeze?", author_name="A")
    spam, _ = comment_from_elsewhere(post=post, key="k2", body="buy cheap-pills now", author_name="B")
    again, created = comment_from_elsewhere(post=post, key="k1", body="When is the freeze?", author_name="A")
    assert held.status == CommentStatus.PENDING and held.hold_reasons[0].startswith("from a social network")
    assert spam.status == CommentStatus.SPAM
    assert again.pk == held.pk and not created
