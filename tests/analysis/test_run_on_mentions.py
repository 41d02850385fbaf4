"""The pipeline on stored mentions: new mentions are enqueued after commit, the task stores one analysis
per mention (re-running updates it), widget reports keep the service the person chose, peers' posts are
left to the digest, and the sweeper re-queues mentions whose task was lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django_tasks_db.models import DBTaskResult

from servicepulse.analysis.models import MentionAnalysis
from servicepulse.analysis.services import mentions_analyze
from servicepulse.analysis.tasks import analyze_mentions, analyze_pending
from servicepulse.catalog.services import catalog_load
from servicepulse.demo.catalog import DEMO_CATALOG
from servicepulse.mentions.models import Mention
from servicepulse.mentions.services import MentionData, mentions_ingest
from servicepulse.sources.models import Audience
from tests.factories import SourceFactory

pytestmark = pytest.mark.django_db(transaction=True)
T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)


def _post(external_id: str, text: str, minutes: int = 0, **extra: object) -> MentionData:
    return MentionData(
        external_id=external_id, text=text, created_at=T0 + timedelta(minutes=minutes), **extra
    )  # type: ignore[arg-type]


def _queued_ids() -> list[int]:
    return sorted(
        i
        for r in DBTaskResult.objects.filter(task_path__endswith="analyze_mentions")
        for i in r.args_kwargs["args"][0]
    )


def test_new_mentions_are_enqueued_after_commit_and_analysed_once() -> None:
    catalog_load(data=DEMO_CATALOG)
    source = SourceFactory(name="fb")
    result = mentions_ingest(
        source=source,
        items=[
            _post(
                "1", "moodle is down again and my essay is due at midnight, absolutely furious", 0, author="a"
            ),
            _post("2", "thank you IT, the eduroam fix in the library worked perfectly", 1, author="b"),
            _post(
                "3",
                "moodle is down again and my essay is due at midnight, absolutely furious!!",
                2,
                author="c",
            ),
        ],
    )
    assert _queued_ids() == sorted(result.mention_ids)
    assert analyze_mentions.call(result.mention_ids) == 3
    assert analyze_mentions.call(result.mention_ids) == 0  # delivered twice: already done by these models
    assert mentions_analyze(mention_ids=result.mention_ids, force=True) == 3  # forced: updated, not doubled
    assert MentionAnalysis.objects.count() == 3
    first, second, third = (MentionAnalysis.objects.get(mention__external_id=k) for k in "123")
    assert first.complaint and first.sentiment == "negative" and first.service_ids[0] == "vle"
    assert not second.complaint and second.sentiment == "positive" and second.service_ids[0] == "wifi"
    assert third.duplicate_of_id == first.mention_id


def test_widget_choice_wins_and_peers_are_skipped() -> None:
    catalog_load(data=DEMO_CATALOG)
    widget = SourceFactory(kind="widget", name="portal")
    peers = SourceFactory(kind="rss", name="peer blogs", audience=Audience.PEERS)
    report = mentions_ingest(
        source=widget,
        items=[
            _post("w1", "Printing — not working", raw={"service_id": "printing", "problem": "down"}),
            _post("w2", "Printing — something else: thanks, all good now", 1, raw={"service_id": "printing"}),
        ],
    )
    rss = SourceFactory(kind="rss", name="news")
    news = mentions_ingest(source=rss, items=[_post("n1", "Printing — not working", raw={"problem": "down"})])
    peer = mentions_ingest(source=peers, items=[_post("p1", "our moodle upgrade went well")])
    assert analyze_mentions.call(report.mention_ids + news.mention_ids + peer.mention_ids) == 3
    reported = MentionAnalysis.objects.get(mention__external_id="w1")
    assert reported.service_ids[0] == "printing"
    # Someone who used the report-a-problem form reported a problem, however little they wrote.
    assert reported.complaint and reported.complaint_score == 1.0
    # Without the widget's problem type (or from another kind of source) the text is read as it is.
    assert not MentionAnalysis.objects.get(mention__external_id="w2").complaint
    assert MentionAnalysis.objects.get(mention__external_id="n1").complaint_score < 1.0
    assert not MentionAnalysis.objects.filter(mention__source=peers).exists()


def test_sweeper_requeues_only_old_unanalysed_mentions() -> None:
    source = SourceFactory(name="s")
    old = mentions_ingest(source=source, items=[_post("old", "vpn broken")]).mention_ids
    Mention.objects.filter(pk__in=old).update(received_at=T0 - timedelta(hours=1))
    mentions_ingest(source=source, items=[_post("new", "printer jam")])
    DBTaskResult.objects.all().delete()  # the worker that held these tasks died
    assert analyze_pending.call() == 1
    assert _queued_ids() == old


def test_sweeper_leaves_peers_posts_alone() -> None:
    """Peers' posts are never analysed, so they never get an analysis row: the sweeper took them for lost work
    and queued them again every five minutes, for ever, and once 5,000 had come (the sweep's limit, oldest
    first) a user's post whose task was lost was never queued again."""
    peers = SourceFactory(kind="rss", name="peer blogs", audience=Audience.PEERS)
    users = SourceFactory(name="s")
    peer = mentions_ingest(source=peers, items=[_post("p1", "our moodle upgrade went well")]).mention_ids
    lost = mentions_ingest(source=users, items=[_post("u1", "vpn broken")]).mention_ids
    Mention.objects.filter(pk__in=peer + lost).update(received_at=T0 - timedelta(hours=1))
    DBTaskResult.objects.all().delete()
    assert analyze_pending.call() == 1
    assert _queued_ids() == lost
    analyze_mentions.call(lost)
    DBTaskResult.objects.all().delete()
    assert analyze_pending.call() == 0  # nothing left to do: nothing queued
    assert not DBTaskResult.objects.exists()


def test_a_reply_naming_no_service_takes_its_threads_services() -> None:
    """Whatever the reply resembles on its own: "log out and back in" under a Wi-Fi complaint is about Wi-Fi."""
    catalog_load(data=DEMO_CATALOG)
    source = SourceFactory(name="fb")
    other = SourceFactory(name="reddit")
    earlier = mentions_ingest(
        source=source, items=[_post("root", "eduroam keeps dropping in the library, can't load anything", 0)]
    )
    analyze_mentions.call(earlier.mention_ids)
    later = mentions_ingest(
        source=source,
        items=[
            _post("r1", "same here", 5, in_reply_to="root", thread_id="root"),
            _post("r2", "+1, same for me", 6, in_reply_to="r1", thread_id="root"),
            _post("p2", "is moodle down for anyone else?", 7),
            _post("r3", "yes, same", 8, in_reply_to="p2", thread_id="p2"),
            _post("r4", "printing is broken too", 9, in_reply_to="root", thread_id="root"),
            # An answer that names no service: on its own it reads as a sign-in matter.
            _post(
                "r5",
                "I think you have to log out and back in first",
                10,
                in_reply_to="root",
                thread_id="root",
            ),
            _post("p3", "I think you have to log out and back in first", 11),
        ],
    )
    stray = mentions_ingest(source=other, items=[_post("x", "same here", 10, in_reply_to="root")])
    analyze_mentions.call(later.mention_ids + stray.mention_ids)

    def tags(external_id: str, source_name: str = "fb") -> list[str]:
        return MentionAnalysis.objects.get(
            mention__external_id=external_id, mention__source__name=source_name
        ).service_ids

    root = MentionAnalysis.objects.get(mention__external_id="root")
    assert root.service_ids[0] == "wifi"
    assert tags("r1")[0] == "wifi" and tags("r2")[0] == "wifi"  # from the root, then from the reply
    r1 = MentionAnalysis.objects.get(mention__external_id="r1")
    assert r1.tags.get(rank=0).confidence == pytest.approx(root.tags.get(rank=0).confidence * 0.8, abs=1e-3)
    assert tags("r3")[0] == "vle"  # the parent was analysed in the same batch
    assert tags("r4")[0] == "printing"  # a reply that names its own service keeps it
    assert tags("p3")[:1] != ["wifi"] and tags("r5") == tags("r1")  # the thread's topic, not its own guess
    assert tags("x", "reddit") == []  # ids are per source: another source's "root" is not its parent


def test_agreeing_under_a_complaint_counts_as_that_persons_complaint() -> None:
    catalog_load(data=DEMO_CATALOG)
    source = SourceFactory(name="fb")
    items = [
        _post("c", "moodle is down again and my essay is due at midnight, absolutely furious", 0, author="a"),
        _post("c1", "same here", 1, author="b", in_reply_to="c", thread_id="c"),
        _post("c2", "+1", 2, author="c", in_reply_to="c1", thread_id="c"),  # under a reply that agreed
        _post("c3", "the library opens at nine tomorrow", 3, author="d", in_reply_to="c", thread_id="c"),
        _post("p", "thank you IT, the eduroam fix in the library worked perfectly", 4, author="e"),
        _post("p1", "same here", 5, author="f", in_reply_to="p", thread_id="p"),
        _post("s", "same here", 6, author="g"),  # not a reply: nothing to agree with
    ]
    analyze_mentions.call(mentions_ingest(source=source, items=items).mention_ids)

    def analysis(external_id: str) -> MentionAnalysis:
        return MentionAnalysis.objects.get(mention__external_id=external_id)

    root = analysis("c")
    assert root.complaint
    for agreeing in ("c1", "c2"):
        reply = analysis(agreeing)
        assert reply.complaint and reply.service_ids[0] == "vle"
        assert reply.complaint_score >= 0.5
    assert not analysis("c3").complaint  # a reply that says something else is read on its own
    assert not analysis("p1").complaint  # agreeing with praise is no complaint
    assert analysis("p1").service_ids[:1] == ["wifi"]
    assert not analysis("s").complaint and analysis("s").service_ids == []
