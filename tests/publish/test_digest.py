"""The learning digest: a week of peer posts groups into the topics a person would name, with the most
discussed posts as examples, the services they touch, a page, an e-mail and a private Atom feed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from xml.etree import ElementTree

import pytest
from django.core import mail

from servicepulse.catalog.services import catalog_load
from servicepulse.demo.catalog import DEMO_CATALOG
from servicepulse.mentions.services import MentionData, mentions_ingest
from servicepulse.publish.selectors import digest_feed_token
from servicepulse.publish.services import digest_build, digest_email_send
from servicepulse.sources.models import Audience
from tests.factories import SourceFactory
from tests.publish.fixtures.peer_week import PEER_WEEK

pytestmark = pytest.mark.django_db
WEEK = date(2026, 11, 16)  # a Monday


@pytest.fixture
def peer_week() -> dict[str, list[int]]:
    catalog_load(data=DEMO_CATALOG)
    peers = SourceFactory(kind="mastodon", name="peers (Mastodon)", audience=Audience.PEERS)
    users = SourceFactory(kind="mastodon", name="students (Mastodon)")
    start = datetime(2026, 11, 16, 8, tzinfo=UTC)
    by_topic: dict[str, list[int]] = {}
    items = []
    for n, (_topic, author, text, replies) in enumerate(PEER_WEEK):
        items.append(
            MentionData(
                external_id=f"p{n}",
                text=text,
                author=author,
                created_at=start + timedelta(hours=3 * n),
                raw={"replies_count": replies, "favourites_count": replies * 2},
            )
        )
    result = mentions_ingest(source=peers, items=items)
    for (topic, *_), mention_id in zip(PEER_WEEK, result.mention_ids, strict=True):
        by_topic.setdefault(topic, []).append(mention_id)
    # Users' own posts that week are not peers' talk and stay out of the digest.
    mentions_ingest(
        source=users,
        items=[MentionData(external_id="u1", text="moodle upgrade broke my quiz", created_at=start)],
    )
    return by_topic


def test_topics_match_what_a_person_would_say(peer_week: dict[str, list[int]]) -> None:
    digest = digest_build(week_start=WEEK + timedelta(days=2))  # any day of the week works
    assert digest.week_start == WEEK
    assert digest.post_count == len(PEER_WEEK)
    assert 4 <= len(digest.topics) <= 6
    expected_terms = {
        "licensing": {"licensing", "storage", "microsoft", "quota", "a3"},
        "ai": {"ai", "generative", "assessment", "detection", "detector"},
        "phishing": {"phishing", "mfa", "credentials"},
        "moodle": {"moodle", "upgrade", "plugin"},
    }
    found = {}
    for topic in digest.topics:
        members = set(topic["mention_ids"])
        for name, ids in peer_week.items():
            if name and members & set(ids):
                found.setdefault(name, topic)
    assert set(found) == set(expected_terms), digest.topics
    for name, topic in found.items():
        # examples come from that topic, most discussed first
        assert set(topic["mention_ids"]) <= set(peer_week[name])
        assert len(topic["mention_ids"]) == 3
        # named by telling terms
        assert set(" ".join(topic["terms"]).split()) & expected_terms[name], (name, topic["terms"])
    # the most discussed licensing post (8 replies) leads its topic
    assert found["licensing"]["mention_ids"][0] == peer_week["licensing"][3]
    assert "vle" in found["moodle"]["service_ids"]
    assert "sso" in found["phishing"]["service_ids"]
    assert found["licensing"]["service_ids"] == [] or "student-email" in found["licensing"]["service_ids"]


def test_rebuild_replaces_and_empty_week(peer_week: dict[str, list[int]]) -> None:
    first = digest_build(week_start=WEEK)
    again = digest_build(week_start=WEEK)
    assert first.pk == again.pk
    empty = digest_build(week_start=WEEK - timedelta(days=7))
    assert (empty.post_count, empty.topics) == (0, [])


def test_page_email_and_private_feed(peer_week: dict[str, list[int]], client, users) -> None:  # type: ignore[no-untyped-def]
    digest = digest_build(week_start=WEEK)
    assert client.get("/publish/digest/").status_code == 302  # sign in first
    client.force_login(users["viewer"])
    page = client.get("/publish/digest/")
    assert page.status_code == 200
    html = page.content.decode()
    assert digest.topics[0]["name"] in html
    assert client.get(f"/publish/digest/{WEEK.isoformat()}/").status_code == 200
    assert client.get("/publish/digest/2001-01-01/").status_code == 404

    assert digest_email_send(digest=digest, recipients=["cio@example.ac.uk"]) == 1
    message = mail.outbox[-1]
    assert "week of 16 November 2026" in message.subject
    assert digest.topics[0]["name"] in message.body
    assert message.alternatives[0][1] == "text/html"

    client.logout()
    assert client.get("/publish/digest/feed/").status_code == 403
    assert client.get("/publish/digest/feed/?token=forged").status_code == 403
    token = digest_feed_token(user_id=users["viewer"].pk)
    feed = client.get(f"/publish/digest/feed/?token={token}")
    assert feed.status_code == 200
    root = ElementTree.fromstring(feed.content)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert root.find("a:title", ns) is not None and root.find("a:updated", ns) is not None
    entry = root.find("a:entry", ns)
    assert entry is not None and digest.topics[0]["name"] in entry.find("a:title", ns).text  # type: ignore[union-attr]


def test_email_and_feed_link_services_with_absolute_addresses(
    peer_week: dict[str, list[int]], client, users, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.BASE_URL = "https://pulse.northgate.example"
    digest = digest_build(week_start=WEEK)
    assert any("vle" in t["service_ids"] for t in digest.topics)
    digest_email_send(digest=digest, recipients=["cio@example.ac.uk"])
    html = mail.outbox[-1].alternatives[0][0]
    assert 'href="https://pulse.northgate.example/services/vle/"' in html  # a mail client has no site
    assert 'href="/services/' not in html

    token = digest_feed_token(user_id=users["viewer"].pk)
    feed = client.get(f"/publish/digest/feed/?token={token}").content.decode()
    assert "https://pulse.northgate.example/services/vle/" in feed
    assert "&quot;/services/" not in feed and 'href="/services/' not in feed

    client.force_login(users["viewer"])
    page = client.get("/publish/digest/").content.decode()
    assert 'href="/services/vle/"' in page  # the page itself keeps its own links


def test_an_empty_week_says_why_in_both_parts_of_the_email() -> None:
    digest = digest_build(week_start=WEEK)
    digest_email_send(digest=digest, recipients=["cio@example.ac.uk"])
    message = mail.outbox[-1]
    assert "(0 posts)" in message.body
    assert "Nothing to group this week" in message.body  # the plain-text part, as the HTML one
    assert "Nothing to group this week" in message.alternatives[0][0]


def test_the_plain_text_email_quotes_posts_as_written(peer_week: dict[str, list[int]]) -> None:
    from servicepulse.mentions.models import Mention

    digest = digest_build(week_start=WEEK)
    digest_email_send(digest=digest, recipients=["cio@example.ac.uk"])
    body = mail.outbox[-1].body
    examples = Mention.objects.filter(pk__in=[i for t in digest.topics for i in t["mention_ids"]])
    assert any("'" in m.text for m in examples)  # "Microsoft's", "We're"...
    for mention in examples:
        if len(mention.text) < 200:
            assert mention.text in body
    assert "&#x27;" not in body and "&amp;" not in body  # plain text: no HTML entities
