"""What a busy team does to the reply box: double clicks, two agents on one case, a platform that refuses,
text over a channel's limit, and a case whose analysis changes after someone took it. Replies go through the
real connector client (slack_sdk) to a loopback replay server."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from django.utils import timezone

from servicepulse.analysis.models import MentionAnalysis
from servicepulse.engage.models import Case, CaseState, Reply, ReplyOutcome, SavedReply
from servicepulse.engage.selectors import reply_too_long
from servicepulse.engage.services import case_open
from servicepulse.sources.models import SourceKind
from servicepulse.sources.services import source_create
from tests.engage.helpers import point_at, slack_fixture
from tests.factories import MentionFactory, SourceFactory
from tests.replay import ReplayServer
from tests.replay import Reply as Answer

pytestmark = pytest.mark.django_db
OK = {("POST", "/api/chat.postMessage"): [Answer(200, body=slack_fixture("chat_postMessage_ok.json"))]}
TEXT = "Thanks for flagging, we're investigating SSO now."


def posts(server: ReplayServer) -> int:
    return sum(1 for r in server.requests if r.path == "/api/chat.postMessage")


def reply_box(html: str) -> str:
    found = re.search(r'<textarea name="text"[^>]*id="id_text"[^>]*>(.*?)</textarea>', html, re.S)
    assert found, "no reply box on the page"
    return unescape(found.group(1)).strip()


def seen_field(html: str) -> str:
    found = re.search(r'<input type="hidden" name="seen" value="(\d+)"', html)
    assert found, "no seen field in the reply form"
    return found.group(1)


def test_a_double_click_sends_the_reply_once(client, users, slack_mention) -> None:  # type: ignore[no-untyped-def]
    with ReplayServer(OK) as server:
        point_at(slack_mention.source, server.url)
        client.force_login(users["responder"])
        url = f"/inbox/m/{slack_mention.pk}/"
        client.post(url, {"action": "reply", "text": TEXT})
        second = client.post(url, {"action": "reply", "text": TEXT}, follow=True)
    assert posts(server) == 1
    html = unescape(second.content.decode())
    assert "This exact reply was already sent" in html
    assert reply_box(html) == ""  # not offered again: it reached the person
    assert list(Reply.objects.values_list("outcome", flat=True)) == [ReplyOutcome.SENT]


def test_a_reply_written_while_a_colleague_answered_is_stopped_and_kept(client, users, slack_mention) -> None:  # type: ignore[no-untyped-def]
    url = f"/inbox/m/{slack_mention.pk}/"
    client.force_login(users["responder"])
    seen = seen_field(client.get(url).content.decode())  # the responder opens the case and starts writing
    with ReplayServer(OK) as server:
        point_at(slack_mention.source, server.url)
        colleague = type(client)()
        colleague.force_login(users["admin"])
        colleague.post(url, {"action": "reply", "text": "Hi, SSO is being looked at, sorry!"})
        mine = "Sorry about the login loop, IAM are on it."
        page = client.post(url, {"action": "reply", "text": mine, "seen": seen}, follow=True)
    assert posts(server) == 1
    html = unescape(page.content.decode())
    assert "admin answered this person at" in html and "yours was not sent" in html
    assert reply_box(html) == mine  # nothing to type again
    assert Reply.objects.filter(outcome=ReplyOutcome.SENT).count() == 1
    # Having read the colleague's answer, the responder can still send theirs.
    with ReplayServer(OK) as server:
        point_at(slack_mention.source, server.url)
        seen = seen_field(html)
        client.post(url, {"action": "reply", "text": mine, "seen": seen})
    assert posts(server) == 1


def test_a_reply_on_its_way_blocks_another_until_it_is_stale(client, users, slack_mention) -> None:  # type: ignore[no-untyped-def]
    case = case_open(mention=slack_mention)
    sending = Reply.objects.create(
        case=case,
        text="On it",
        outcome=ReplyOutcome.SENDING,
        sent_by=users["admin"],
        created_at=timezone.now() - timedelta(seconds=20),
    )
    url = f"/inbox/m/{slack_mention.pk}/"
    client.force_login(users["responder"])
    with ReplayServer(OK) as server:
        point_at(slack_mention.source, server.url)
        page = client.post(url, {"action": "reply", "text": TEXT}, follow=True)
        assert posts(server) == 0
        assert "admin is sending a reply to this person right now" in unescape(page.content.decode())
        # A send cut off by a crash stays listed as "sending", but no longer stops the team answering.
        Reply.objects.filter(pk=sending.pk).update(created_at=timezone.now() - timedelta(minutes=10))
        client.post(url, {"action": "reply", "text": TEXT})
        assert posts(server) == 1
    assert "Sending (outcome unknown if it stays here)" in client.get(url).content.decode()


def test_a_refused_reply_comes_back_in_the_form(client, users, slack_mention) -> None:  # type: ignore[no-untyped-def]
    routes = {
        ("POST", "/api/chat.postMessage"): [Answer(200, body=slack_fixture("error_not_in_channel.json"))]
    }
    with ReplayServer(routes) as server:
        point_at(slack_mention.source, server.url)
        client.force_login(users["responder"])
        page = client.post(f"/inbox/m/{slack_mention.pk}/", {"action": "reply", "text": TEXT}, follow=True)
    html = unescape(page.content.decode())
    assert "Reply not sent" in html and "Your text is kept in the form below" in html
    assert reply_box(html) == TEXT
    # Only once: the next visit starts with an empty box.
    assert reply_box(client.get(f"/inbox/m/{slack_mention.pk}/").content.decode()) == ""


def test_a_saved_reply_over_the_channel_limit_is_flagged_before_sending(client, users) -> None:  # type: ignore[no-untyped-def]
    masto = source_create(
        kind="mastodon",
        name="campus-mastodon",
        options={"api_base_url": "http://127.0.0.1:1", "access_token": "tok"},
    )
    mention = MentionFactory(source=masto, author="eli", raw={"account": {"acct": "eli@x.example"}})
    long = SavedReply.objects.create(title="Long apology", body="We are so sorry {author}. " + "x" * 470)
    client.force_login(users["responder"])
    page = unescape(client.get(f"/inbox/m/{mention.pk}/?saved={long.pk}").content.decode())
    assert "Mastodon allows 500 characters" in page
    assert "This reply is too long to send:" in page
    short = SavedReply.objects.create(title="Short", body="Thanks {author}, we are on it.")
    page = unescape(client.get(f"/inbox/m/{mention.pk}/?saved={short.pk}").content.decode())
    assert "too long to send" not in page


def test_lengths_are_counted_the_way_each_platform_counts_them(client, users) -> None:  # type: ignore[no-untyped-def]
    # X counts CJK characters double: 200 of them are 400, refused here rather than by X.
    x_post = MentionFactory(source=SourceFactory(kind=SourceKind.X, name="northgate-x"), author="lin")
    client.force_login(users["responder"])
    html = client.post(
        f"/inbox/m/{x_post.pk}/", {"action": "reply", "text": "图书馆网络" * 40}, follow=True
    ).content.decode()
    assert "Too long: 400 characters: X allows 280" in unescape(html)
    assert Reply.objects.get(case__mention=x_post).outcome == ReplyOutcome.FAILED
    # Bluesky counts graphemes: 150 thumbs-up with a skin tone are 300 code points but 150 characters.
    sky = MentionFactory(source=SourceFactory(kind=SourceKind.BLUESKY))
    assert reply_too_long(mention=sky, text="👍🏽" * 150) == ""
    assert reply_too_long(mention=sky, text="👩‍💻" * 301).startswith("301 characters")


def test_a_case_stays_in_the_inbox_when_the_analysis_arrives_later(client, users) -> None:  # type: ignore[no-untyped-def]
    mention = MentionFactory(text="the printers in the library")  # not analysed yet: listed
    client.force_login(users["responder"])
    client.post(f"/inbox/m/{mention.pk}/", {"action": "assign", "assignee": users["responder"].pk})
    assert Case.objects.get(mention=mention).state == CaseState.ASSIGNED
    # The analysis lands afterwards: not a complaint, no question mark.
    MentionAnalysis.objects.create(
        mention=mention, created_at=mention.created_at, complaint=False, analysed_at=timezone.now()
    )
    for query in ("?state=assigned", "?state=all", "?state=all&mine=1"):
        page = client.get(f"/inbox/{query}").content.decode()
        assert f'href="/inbox/m/{mention.pk}/"' in page, query
    assert "Assigned (1)" in client.get("/inbox/").content.decode()


def test_tab_counts_and_links_follow_the_filters(client, users) -> None:  # type: ignore[no-untyped-def]
    from servicepulse.engage.services import case_assign
    from tests.factories import ServiceFactory

    ServiceFactory(id="wifi", name="Wi-Fi", team="Networks")
    ServiceFactory(id="vle", name="Moodle VLE", team="Learning technology")
    wifi_cases = [case_open(mention=MentionFactory(text=f"eduroam drops {n}")) for n in range(2)]
    for case in wifi_cases:
        case_assign(case=case, actor=None, team="Networks")
    case_assign(
        case=case_open(mention=MentionFactory(text="moodle down")), actor=None, team="Learning technology"
    )
    MentionFactory(text="new and untouched")
    client.force_login(users["viewer"])
    page = unescape(client.get("/inbox/?state=assigned&team=Networks").content.decode())
    assert "Assigned (2)" in page and "New (0)" in page  # what the Networks list holds, not the whole inbox
    assert 'href="?state=new&team=Networks"' in page  # a tab keeps the filter
    assert "Nothing matches these filters" not in page
    page = unescape(client.get("/inbox/?state=new&team=Networks").content.decode())
    assert "Nothing matches these filters in this tab" in page
