"""A person who answers our reply with "stop" is opted out on that channel, and the closed loop lists them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from servicepulse.engage.models import OptOut
from servicepulse.engage.receivers import STOP
from servicepulse.engage.services import case_open, case_reply
from servicepulse.mentions.services import MentionData, mentions_ingest
from tests.engage.helpers import point_at, slack_fixture, slack_source
from tests.factories import MentionFactory
from tests.replay import ReplayServer
from tests.replay import Reply as Answer

pytestmark = pytest.mark.django_db
AT = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "stop"),
    [
        ("stop", True),
        ("STOP please", True),
        ("@northgate_it unsubscribe", True),
        ("Opt-out.", True),
        ("please stop", True),
        ("don't reply me thanks", True),
        ("stop breaking moodle", False),
        ("how do I stop moodle logging me out?", False),
    ],
)
def test_stop_words(text: str, stop: bool) -> None:
    assert bool(STOP.search(text)) is stop


def _thread_reply(source, external_id: str, author_id: str, text: str) -> None:  # type: ignore[no-untyped-def]
    mentions_ingest(
        source=source,
        items=[
            MentionData(
                external_id=external_id,
                text=text,
                created_at=AT,
                author=author_id.lower(),
                author_id=author_id,
                in_reply_to="C024BE91L:1795470100.000200",
                thread_id="C024BE91L:1795470100.000200",
            )
        ],
    )


def test_stop_in_the_thread_we_answered_opts_the_person_out(
    users, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    source = slack_source()
    mention = MentionFactory(
        source=source, external_id="C024BE91L:1795470100.000200", author="ana", author_id="U1"
    )
    routes = {
        ("POST", "/api/chat.postMessage"): [Answer(200, body=slack_fixture("chat_postMessage_ok.json"))]
    }
    with ReplayServer(routes) as server:
        point_at(source, server.url)
        case_reply(case=case_open(mention=mention), text="We are on it", actor=users["responder"])
    with django_capture_on_commit_callbacks(execute=True):
        _thread_reply(source, "C024BE91L:1795470900.000100", "U2", "stop")  # someone else: not them
        _thread_reply(source, "C024BE91L:1795470900.000200", "U1", "stop breaking it")  # not a request
    assert not OptOut.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        _thread_reply(source, "C024BE91L:1795470900.000300", "U1", "STOP please")
    optout = OptOut.objects.get()
    assert (optout.source_id, optout.author_key) == (source.pk, "U1")
    assert "STOP please" in optout.reason
