"""A reply the platform made but answered too late is shown as "may have been posted"; the responder who sends
the same text again soon after gets that same reply, not a second one: Mastodon is sent the first try's
Idempotency-Key again. Through the inbox page and the real client (Mastodon.py) against a loopback server
that keeps the statuses it creates by key, as Mastodon does for an hour."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from servicepulse.engage.models import Reply, ReplyOutcome
from servicepulse.sources.services import source_create
from tests.engage.helpers import point_at, slack_fixture, slack_source
from tests.factories import MentionFactory
from tests.replay import RecordedRequest, ReplayServer
from tests.replay import Reply as Answer

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parents[2] / "servicepulse/sources/connectors/mastodon/fixtures"
TEXT = "Thanks Eli, eduroam in the Hopkins Building is being looked at now."
LATE = 1.5  # seconds before an answer: beyond the client's shortened timeout


@pytest.fixture(autouse=True)
def short_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("servicepulse.sources.connectors.mastodon.client.TIMEOUT", 0.5)
    monkeypatch.setattr("servicepulse.core.fetcher.DEFAULT_TIMEOUT", 0.5)


def mastodon(statuses: dict[str, str], *, late: int) -> dict[tuple[str, str], list[Any]]:
    """A Mastodon server that makes every status asked for, once per Idempotency-Key, and answers the first
    `late` requests after the client has given up."""
    calls = itertools.count()

    def post_status(request: RecordedRequest) -> Answer:
        key = request.headers["Idempotency-Key"]
        statuses.setdefault(key, str(113600000000000300 + len(statuses)))
        body = {**json.loads((FIXTURES / "status_post_reply.json").read_bytes()), "id": statuses[key]}
        return Answer(200, body=body, delay=LATE if next(calls) < late else 0)

    return {
        ("GET", "/api/v2/instance/"): [Answer(200, body=(FIXTURES / "instance_v2.json").read_bytes())],
        ("POST", "/api/v1/statuses"): [post_status],
    }


def keys(server: ReplayServer) -> list[str]:
    return [r.headers["Idempotency-Key"] for r in server.requests if r.path == "/api/v1/statuses"]


def toot(url: str) -> Any:
    source = source_create(
        kind="mastodon", name="campus-mastodon", options={"api_base_url": url, "access_token": "tok"}
    )
    return MentionFactory(
        source=source,
        external_id="113500000000000201",
        author="eli",
        author_id="1090",
        text="eduroam dead in the Hopkins Building again",
        raw={"account": {"acct": "eli@mastodon.example"}},
    )


def test_sending_again_after_no_answer_gets_the_reply_already_made(client, users) -> None:  # type: ignore[no-untyped-def]
    statuses: dict[str, str] = {}
    with ReplayServer(mastodon(statuses, late=2)) as server:
        mention = toot(server.url)
        client.force_login(users["responder"])
        url = f"/inbox/m/{mention.pk}/"
        page = client.post(url, {"action": "reply", "text": TEXT}, follow=True)
        html = unescape(page.content.decode())
        assert "did not answer in time, so the reply may have been posted" in html
        assert "Sending the same text again within 10 minutes asks Mastodon for this same reply" in html
        first = Reply.objects.get()
        assert first.outcome == ReplyOutcome.FAILED and first.outcome_unknown
        # The status was made (twice asked, once made); the responder sends the same text again.
        client.post(url, {"action": "reply", "text": TEXT})
    assert len(statuses) == 1
    assert keys(server) == [f"servicepulse-reply-{first.pk}"] * 3
    again = Reply.objects.exclude(pk=first.pk).get()
    assert again.outcome == ReplyOutcome.SENT and again.resend_of == first
    assert again.external_id == statuses[f"servicepulse-reply-{first.pk}"]


def test_other_text_or_a_later_resend_is_a_new_reply(client, users) -> None:  # type: ignore[no-untyped-def]
    statuses: dict[str, str] = {}
    with ReplayServer(mastodon(statuses, late=2)) as server:
        mention = toot(server.url)
        client.force_login(users["responder"])
        url = f"/inbox/m/{mention.pk}/"
        client.post(url, {"action": "reply", "text": TEXT})
        first = Reply.objects.get()
        client.post(url, {"action": "reply", "text": "Eli, the Hopkins Wi-Fi is being looked at."})
        other = Reply.objects.latest("id")
        assert other.outcome == ReplyOutcome.SENT and other.resend_of is None
        # Beyond the window a record key from the first try's time may be refused: a new reply, checked first.
        Reply.objects.filter(pk=first.pk).update(
            created_at=timezone.now() - timedelta(minutes=11),
            first_tried_at=timezone.now() - timedelta(minutes=11),
        )
        client.post(url, {"action": "reply", "text": TEXT})
        late = Reply.objects.latest("id")
    assert late.outcome == ReplyOutcome.SENT and late.resend_of is None
    assert keys(server)[2:] == [f"servicepulse-reply-{other.pk}", f"servicepulse-reply-{late.pk}"]
    assert len(statuses) == 3


def test_a_platform_without_keys_says_to_check_before_sending_again(client, users, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from servicepulse.sources.connectors.slack.client import SlackClient

    monkeypatch.setitem(SlackClient.__init__.__kwdefaults__, "timeout", 1)  # type: ignore[index]
    routes = {
        ("POST", "/api/chat.postMessage"): [
            Answer(200, body=slack_fixture("chat_postMessage_ok.json"), delay=LATE)
        ]
    }
    with ReplayServer(routes) as server:
        source = slack_source()
        point_at(source, server.url)
        mention = MentionFactory(
            source=source, external_id="C024BE91L:1795470100.000200", author="U1", author_id="U1"
        )
        client.force_login(users["responder"])
        page = client.post(f"/inbox/m/{mention.pk}/", {"action": "reply", "text": TEXT}, follow=True)
    html = unescape(page.content.decode())
    assert "may have been posted" in html and "Check the person's post on Slack before sending again." in html
    assert len(server.requests_sent_to("/api/chat.postMessage", "POST")) == 1
