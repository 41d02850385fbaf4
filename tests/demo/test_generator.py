"""The demo generator: deterministic, with the planted incidents' surges, calm weeks, and varied posts."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from servicepulse.demo.generator import CHANNELS, DemoData, DemoPost, generate

END = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo() -> DemoData:
    return generate(seed=11, end=END)


def complainers(posts: list[DemoPost], service: str, start: datetime, end: datetime) -> set[str]:
    return {
        p.author_id
        for p in posts
        if p.service == service and p.intent == "complaint" and start <= p.created_at < end
    }


def test_same_seed_same_posts_other_seed_other_posts(demo: DemoData) -> None:
    again = generate(seed=demo.seed, end=END)
    assert again.posts == demo.posts
    assert again.tickets == demo.tickets
    other = generate(seed=demo.seed + 1, end=END)
    assert [p.text for p in other.posts[:50]] != [p.text for p in demo.posts[:50]]


def test_six_weeks_ending_now_with_a_few_thousand_posts(demo: DemoData) -> None:
    assert demo.end == END and demo.start == END - timedelta(days=42)
    assert all(demo.start <= p.created_at < demo.end for p in demo.posts)
    assert all(p.created_at.tzinfo is not None for p in demo.posts)
    assert 2500 <= len(demo.posts) <= 6000
    assert max(p.created_at for p in demo.posts) > END - timedelta(hours=3)  # dashboards look live
    assert {p.channel for p in demo.posts} == {c.key for c in CHANNELS}


def test_ids_unique_per_channel_and_replies_point_at_earlier_posts(demo: DemoData) -> None:
    seen: dict[str, dict[str, DemoPost]] = defaultdict(dict)
    for p in demo.posts:
        assert p.external_id not in seen[p.channel]
        seen[p.channel][p.external_id] = p
    replies = [p for p in demo.posts if p.in_reply_to]
    assert len(replies) > 300
    for r in replies:
        parent = seen[r.channel][r.in_reply_to]
        assert parent.created_at < r.created_at
        assert r.thread_id and r.thread_id in seen[r.channel]


@pytest.mark.parametrize(
    ("incident_id", "window_minutes", "at_least"),
    [("vle-deadline", 30, 12), ("email-outage", 60, 10), ("wifi-building", 120, 6)],
)
def test_planted_incidents_surge_from_many_people(
    demo: DemoData, incident_id: str, window_minutes: int, at_least: int
) -> None:
    incident = next(i for i in demo.incidents if i.id == incident_id)
    window = timedelta(minutes=window_minutes)
    during = complainers(demo.posts, incident.service_id, incident.onset, incident.onset + window)
    before = complainers(demo.posts, incident.service_id, incident.onset - window, incident.onset)
    assert len(during) >= at_least
    assert len(during) >= 4 * max(len(before), 1)


def test_vle_surge_is_sharp_and_wifi_builds_up_slowly(demo: DemoData) -> None:
    vle = next(i for i in demo.incidents if i.id == "vle-deadline")
    first_ten = complainers(demo.posts, "vle", vle.onset, vle.onset + timedelta(minutes=10))
    assert len(first_ten) >= 4  # within minutes
    wifi = next(i for i in demo.incidents if i.id == "wifi-building")
    two_hours = timedelta(hours=2)
    early = complainers(demo.posts, "wifi", wifi.onset, wifi.onset + two_hours)
    late = complainers(demo.posts, "wifi", wifi.onset + 2 * two_hours, wifi.onset + 3 * two_hours)
    assert len(late) > 1.25 * len(early)
    building = [
        p
        for p in demo.posts
        if p.incident == "wifi-building" and p.intent == "complaint" and not p.in_reply_to
    ]
    assert sum("hopkins" in p.text.lower() for p in building) >= 0.8 * len(building)


def test_email_outage_is_in_the_morning(demo: DemoData) -> None:
    email = next(i for i in demo.incidents if i.id == "email-outage")
    assert 7 <= email.onset.hour <= 10  # UTC; London is UTC or UTC+1


def test_calm_weeks_are_calm(demo: DemoData) -> None:
    assert not any(start <= i.onset < end for i in demo.incidents for start, end in demo.calm_periods)
    for start, end in demo.calm_periods:
        posts = [p for p in demo.posts if start <= p.created_at < end]
        assert not any(p.incident for p in posts)
        per_hour: dict[tuple[str, int], set[str]] = defaultdict(set)
        for p in posts:
            if p.intent == "complaint" and p.service:
                per_hour[(p.service, int(p.created_at.timestamp() // 3600))].add(p.author_id)
        assert max(len(a) for a in per_hour.values()) <= 5  # a handful per hour per service at most


def test_quiet_nights_and_busier_weekdays(demo: DemoData) -> None:
    from zoneinfo import ZoneInfo

    london = ZoneInfo("Europe/London")
    ordinary = [p for p in demo.posts if not p.incident]
    hours = Counter(p.created_at.astimezone(london).hour for p in ordinary)
    assert hours[4] * 8 < hours[11]
    days = Counter(p.created_at.astimezone(london).weekday() for p in ordinary)
    assert days[1] > 1.4 * days[5]  # Tuesday against Saturday


def test_sunday_evening_deadline_rush(demo: DemoData) -> None:
    from zoneinfo import ZoneInfo

    london = ZoneInfo("Europe/London")
    ordinary = [p for p in demo.posts if not p.incident and p.service in {"vle", "submission"}]
    sunday_evening = sum(
        1
        for p in ordinary
        if p.created_at.astimezone(london).weekday() == 6 and p.created_at.astimezone(london).hour >= 18
    )
    saturday_evening = sum(
        1
        for p in ordinary
        if p.created_at.astimezone(london).weekday() == 5 and p.created_at.astimezone(london).hour >= 18
    )
    assert sunday_evening > 2 * saturday_evening


def test_reading_week_is_quieter(demo: DemoData) -> None:
    reading = next(w for w in demo.calendar if w.kind == "reading")
    teaching = [
        w for w in demo.calendar if w.kind == "teaching" and demo.start <= w.start and w.end <= demo.end
    ]
    count = lambda w: sum(1 for p in demo.posts if w.start <= p.created_at < w.end and not p.incident)  # noqa: E731
    assert count(reading) < 0.8 * min(count(w) for w in teaching[1:])
    assert {w.kind for w in demo.calendar if w.start < demo.end} == {"teaching", "reading", "exams"}


def test_the_calendar_runs_on_past_the_demo_so_the_board_does_not_warn_it_runs_out(demo: DemoData) -> None:
    from servicepulse.incidents.calendar import CALENDAR_NOTICE, Period, TermCalendar, calendar_runs_out

    calendar = TermCalendar(Period(start=w.start, end=w.end, kind=w.kind) for w in demo.calendar)
    assert calendar_runs_out(calendar, now=demo.end) is None
    assert calendar.ends_at is not None and calendar.ends_at - demo.end > CALENDAR_NOTICE


def test_every_kind_of_post_is_there(demo: DemoData) -> None:
    intents = Counter(p.intent for p in demo.posts)
    for intent in ("complaint", "praise", "question", "neutral", "spam", "offtopic", "answer"):
        assert intents[intent] >= 30, intent
    spam = [p.text for p in demo.posts if p.intent == "spam"]
    assert any("http" in t for t in spam)
    texts = [p.text for p in demo.posts]
    assert sum("#" in t for t in texts) > 100  # hashtags
    assert sum(any(e in t for e in "😩😤🙃💀😭🙌🎉🙏") for t in texts) > 100  # emoji
    roots = [p.text for p in demo.posts if not p.in_reply_to and p.channel != "widget"]  # forms repeat
    assert len(set(roots)) > 0.75 * len(roots)  # varied wording (replies like "same here" repeat, as they do)


def test_authors_have_a_heavy_tail(demo: DemoData) -> None:
    per_author = Counter(p.author_id for p in demo.posts)
    once = sum(1 for n in per_author.values() if n == 1)
    assert len(per_author) > 600
    assert once > 0.25 * len(per_author)
    assert per_author.most_common(1)[0][1] >= 25


def test_tickets_reach_the_desk_after_the_chatter(demo: DemoData) -> None:
    for incident in demo.incidents:
        first = min(t.opened for t in demo.tickets if t.incident == incident.id)
        assert first - incident.onset >= timedelta(minutes=30)
    assert all(t.resolved is None or t.resolved > t.opened for t in demo.tickets)


def test_naive_end_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        generate(end=datetime(2026, 11, 26, 18, 0))  # noqa: DTZ001 - the point of the test
