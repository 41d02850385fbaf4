"""Scheduled syncs (tasks, schedule), the shared store helper, and source health for the sources page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from servicepulse.mentions.models import Mention
from servicepulse.mentions.services import MentionData
from servicepulse.sources.models import Source
from servicepulse.sources.registry import Rejected
from servicepulse.sources.selectors import (
    Health,
    source_kinds,
    source_list_with_health,
    source_public_options,
)
from servicepulse.sources.services import source_create, source_store, source_update
from servicepulse.sources.tasks import sync_due_sources, sync_source
from tests.replay import ReplayServer, Reply

FEED = (
    Path(__file__).resolve().parents[2] / "servicepulse/sources/connectors/rss/fixtures/rss20.xml"
).read_bytes()
pytestmark = pytest.mark.django_db


def rss(name: str, url: str = "http://127.0.0.1:9/feed", **fields: Any) -> Source:
    source = source_create(kind="rss", name=name, options={"url": url})
    if fields:
        Source.objects.filter(pk=source.pk).update(**fields)
        source.refresh_from_db()
    return source


def test_sync_due_sources_enqueues_each_due_source_once(django_capture_on_commit_callbacks: Any) -> None:
    due = rss("due")
    later = rss("later", next_try_at=timezone.now() + timedelta(hours=1))
    paused = rss("paused", enabled=False)
    streamed = source_create(kind="bluesky", name="live", options={"keywords": "moodle"})
    with django_capture_on_commit_callbacks(execute=True):
        assert sync_due_sources.call() == 1
        assert sync_due_sources.call() == 0  # claimed: the next tick does not enqueue it again
    queued = list(DBTaskResult.objects.values_list("task_path", "args_kwargs"))
    assert queued == [("servicepulse.sources.tasks.sync_source", {"args": [due.pk], "kwargs": {}})]
    due.refresh_from_db()
    assert due.next_try_at is not None and due.next_try_at > timezone.now() + timedelta(seconds=250)
    for untouched in (later, paused, streamed):
        untouched.refresh_from_db()
    assert paused.next_try_at is None and streamed.next_try_at is None


def test_sync_source_task_records_health() -> None:
    with ReplayServer({("GET", "/feed"): [Reply(200, body=FEED), Reply(500, body="boom")]}) as server:
        source = rss("feed", url=server.url + "/feed")
        assert sync_source.call(source.pk) == {"created": 3, "duplicates": 0, "quarantined": 0}
        source.refresh_from_db()
        assert source.next_try_at is not None
        assert 290 <= (source.next_try_at - source.last_success_at).total_seconds() <= 310  # poll interval
        assert sync_source.call(source.pk) == {"failed": 1}  # recorded, not raised
    source.refresh_from_db()
    assert "HTTP 500" in source.last_error and source.consecutive_failures == 1
    assert sync_source.call(987654) is None  # gone: tolerated


def test_a_source_failing_for_weeks_keeps_its_six_hour_back_off() -> None:
    """The back-off doubled from a minute without end before it was capped at six hours: the 42nd failure in a
    row (a feed gone or a token expired, about nine days on) overflowed timedelta, so the failure was not
    recorded, the source was tried again at every poll instead of every six hours, and its health showed the
    nine-day-old error."""
    with ReplayServer({("GET", "/feed"): [Reply(404, body="gone")] * 3}) as server:
        source = rss("gone", url=server.url + "/feed", consecutive_failures=41)
        assert sync_source.call(source.pk) == {"failed": 1}
        source.refresh_from_db()
        assert source.consecutive_failures == 42 and "404" in source.last_error
        assert source.next_try_at is not None and source.last_error_at is not None
        assert timedelta(hours=6) <= source.next_try_at - source.last_error_at <= timedelta(hours=6.7)
        Source.objects.filter(pk=source.pk).update(consecutive_failures=10_000)
        assert sync_source.call(source.pk) == {"failed": 1}
        source.refresh_from_db()
        assert source.consecutive_failures == 10_001


def test_a_platform_asking_to_wait_for_ages_is_tried_again_within_a_day() -> None:
    # A Retry-After beyond what a datetime can hold overflowed the same way.
    with ReplayServer(
        {("GET", "/feed"): [Reply(429, body="slow down", headers={"Retry-After": "1e20"})]}
    ) as server:
        source = rss("greedy", url=server.url + "/feed")
        assert sync_source.call(source.pk) == {"failed": 1}
    source.refresh_from_db()
    assert source.consecutive_failures == 1 and source.next_try_at is not None
    assert source.last_error_at is not None
    assert source.next_try_at - source.last_error_at <= timedelta(days=1)


def test_poll_seconds_option() -> None:
    with ReplayServer({("GET", "/feed"): [Reply(200, body=FEED)]}) as server:
        source = source_create(kind="rss", name="fast", options={"url": server.url + "/feed"})
        # rss has no poll_seconds option; the connector default (300 s) applies
        sync_source.call(source.pk)
    source.refresh_from_db()
    assert 290 <= (source.next_try_at - source.last_success_at).total_seconds() <= 310


def test_schedule_registers_periodic_sync() -> None:
    # This app's schedule, as the scheduler reads it (other apps' schedules are theirs to test).
    from servicepulse.sources.schedule import SCHEDULE

    [job] = SCHEDULE
    assert job.name == "sources.sync_due_sources" and job.task is sync_due_sources and job.seconds == 60


def test_source_store_quarantines_and_moves_cursor_after_commit() -> None:
    source = rss("store")
    when = datetime(2026, 11, 25, 21, 0, tzinfo=UTC)
    items = [MentionData(external_id="a", text="moodle down", created_at=when)] * 2
    result = source_store(
        source=source,
        mentions=items,
        rejected=[Rejected(raw=b"{bad", reason="not JSON", position="item 3")],
        cursor={"page": 2},
    )
    assert (result.created, result.duplicates, result.quarantined) == (1, 1, 1)
    source.refresh_from_db()
    assert source.cursor == {"page": 2}
    again = source_store(source=source, mentions=items[:1], cursor={"page": 3})
    assert (again.created, again.duplicates) == (0, 1)
    assert Mention.objects.filter(source=source).count() == 1


def test_health_listing(django_assert_max_num_queries: Any) -> None:
    now = timezone.now()
    rss("never")
    rss("ok", last_success_at=now)
    rss("failing", last_success_at=now - timedelta(hours=2), last_error="HTTP 503", last_error_at=now)
    rss("off", enabled=False)
    Source.objects.create(kind="import", name="file")
    with django_assert_max_num_queries(3):
        rows = {row.name: row for row in source_list_with_health()}
    assert rows["never"].status == Health.NEVER
    assert rows["ok"].status == Health.OK
    assert rows["failing"].status == Health.FAILING and rows["failing"].last_error == "HTTP 503"
    assert rows["off"].status == Health.DISABLED
    assert rows["file"].status == Health.PUSHED
    assert {k.kind for k in source_kinds()} >= {"rss", "mastodon", "bluesky", "reddit", "import"}


def test_update_keeps_secrets_and_hides_them() -> None:
    source = source_create(
        kind="mastodon", name="m", options={"api_base_url": "https://a.example", "access_token": "s3cret-zq"}
    )
    source_update(source=source, options={"api_base_url": "https://b.example", "hashtags": "vle"})
    source.refresh_from_db()
    assert source.options["api_base_url"] == "https://b.example" and source.secrets == {
        "access_token": "s3cret-zq"
    }
    shown = source_public_options(source=source)
    assert shown["access_token"] == "(set)" and "s3cret-zq" not in str(shown)


def stored_unchecked(source: Source, **options: str) -> Source:
    """Options written straight to the row, as a version that did not check them may have stored them."""
    Source.objects.filter(pk=source.pk).update(options={**source.options, **options})
    source.refresh_from_db()
    return source


def test_one_unreadable_source_does_not_stop_the_schedule(
    django_capture_on_commit_callbacks: Any, caplog: pytest.LogCaptureFixture
) -> None:
    masto = {"api_base_url": "https://m.example", "hashtags": "uni", "streaming": "false"}
    bad_interval = stored_unchecked(
        source_create(kind="mastodon", name="m_poll", options=masto), poll_seconds="abc"
    )
    bad_flag = stored_unchecked(
        source_create(kind="mastodon", name="m_stream", options=masto), streaming="maybe"
    )
    good = rss("good")
    with django_capture_on_commit_callbacks(execute=True):
        assert sync_due_sources.call() == 1
        assert sync_due_sources.call() == 0  # the broken ones back off like any failing source
    queued = [row["args"] for row in DBTaskResult.objects.values_list("args_kwargs", flat=True)]
    assert queued == [[good.pk]]
    for broken, reason in (
        (bad_interval, "option poll_seconds must be a whole number, not 'abc'"),
        (bad_flag, "option streaming: not a yes/no value: 'maybe'"),
    ):
        broken.refresh_from_db()
        assert broken.last_error == f"cannot be scheduled: {reason}"
        assert broken.consecutive_failures == 1 and broken.next_try_at > timezone.now()
        assert f"source {broken.name} cannot be scheduled: {reason}" in caplog.text
    assert [row.status for row in source_list_with_health() if row.name.startswith("m_")] == [
        Health.FAILING
    ] * 2


def test_sync_of_a_source_with_an_unreadable_interval_is_recorded() -> None:
    from servicepulse.sources.registry import ConnectorError
    from servicepulse.sources.services import source_sync

    with ReplayServer({("GET", "/feed"): [Reply(200, body=FEED)]}) as server:
        source = stored_unchecked(rss("feed", url=server.url + "/feed"), poll_seconds="abc")
        with pytest.raises(ConnectorError, match="option poll_seconds must be a whole number, not 'abc'"):
            source_sync(source=source)
    source.refresh_from_db()
    assert source.last_error == "option poll_seconds must be a whole number, not 'abc'"
    assert sync_source.call(source.pk) == {"failed": 1}  # the task records it too, and does not crash


def test_one_unreadable_source_does_not_stop_the_streams_or_retention() -> None:
    from datetime import timedelta

    from servicepulse.mentions.services import mentions_apply_retention
    from servicepulse.sources.services import sources_streamed
    from tests.factories import MentionFactory

    masto = {"api_base_url": "https://m.example", "hashtags": "uni", "streaming": "true"}
    live = source_create(kind="mastodon", name="m_live", options=masto)
    broken = stored_unchecked(
        source_create(kind="mastodon", name="m_maybe", options=masto), streaming="maybe"
    )
    # QA: one such source made `servicepulse stream` exit, and `run` stopped with it, on every start.
    assert [s.name for s in sources_streamed()] == ["m_live"]
    assert [s.name for s in sources_streamed(names={"m_maybe"})] == []
    broken.refresh_from_db()
    assert broken.last_error == "cannot be scheduled: option streaming: not a yes/no value: 'maybe'"

    old = timezone.now() - timedelta(days=30)
    Source.objects.filter(pk=broken.pk).update(retention_days=2_000_000_000)  # stored before it was checked
    Source.objects.filter(pk=live.pk).update(retention_days=7)
    kept = MentionFactory(source=broken, created_at=old)
    MentionFactory(source=live, created_at=old)
    assert mentions_apply_retention() == 1  # the other source's old post still goes
    assert Mention.objects.filter(pk=kept.pk).exists()
