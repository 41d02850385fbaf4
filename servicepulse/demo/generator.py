"""Seeded generator of the demo university's six weeks of posts, ending at "now".

Everything is drawn from one `random.Random(seed)`, so a seed and an end time give exactly the same posts,
ids included. Pure Python, no database: `servicepulse.demo.services.demo_load` stores the result.

The story, counted in ISO weeks back from the week holding `end` (week 0), in the organisation's time zone:

* a term calendar: teaching weeks, a quiet reading week (-4), class-test week (0), and the weeks ahead to the
  January exams, as a university's calendar runs to the end of its year — see `TERM_WEEKS`;
* daily and weekly rhythms: quiet nights, busier weekdays, a Sunday-evening deadline rush on the VLE and
  assignment submission;
* three planted incidents (`PLANTED_INCIDENTS`): Wi-Fi degrading over hours in one building (week -5),
  a morning e-mail outage (week -3), the VLE failing on the coursework deadline night (week -1, Sunday);
* calm weeks (`CALM_WEEKS`: -4 and -2) with baseline chatter only, and one person ranting five times in an
  hour about printing in week -2 (one angry person is not an outage);
* authors with a heavy tail (a few regulars, many who post once), replies in threads, praise, questions,
  off-topic chatter and spam, roughened with typos, slang, hashtags and emoji.
"""

from __future__ import annotations

import math
import random
import re
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from servicepulse.demo import wording as w

DEFAULT_SEED = 20261
SPAN = timedelta(days=42)
DEFAULT_TIME_ZONE = "Europe/London"


# --- the calendar ---


@dataclass(frozen=True)
class TermWeekSpec:
    offset: int  # ISO weeks before the week holding the end of the demo
    kind: str  # teaching | reading | exams
    label: str


TERM_WEEKS: list[TermWeekSpec] = [
    TermWeekSpec(-6, "teaching", "Teaching week 4"),
    TermWeekSpec(-5, "teaching", "Teaching week 5"),
    TermWeekSpec(-4, "reading", "Reading week"),
    TermWeekSpec(-3, "teaching", "Teaching week 6"),
    TermWeekSpec(-2, "teaching", "Teaching week 7"),
    TermWeekSpec(-1, "teaching", "Teaching week 8 (coursework deadline Sunday 23:59)"),
    TermWeekSpec(0, "exams", "Class-test week"),
    # Ahead of "now": the demo holds no posts there, but a calendar that ended with this week would have the
    # board warn that it runs out (as it should for a real one).
    TermWeekSpec(1, "teaching", "Teaching week 9"),
    TermWeekSpec(2, "teaching", "Teaching week 10"),
    TermWeekSpec(3, "holiday", "Winter vacation"),
    TermWeekSpec(4, "holiday", "Winter vacation"),
    TermWeekSpec(5, "holiday", "Winter vacation"),
    TermWeekSpec(6, "exams", "January exams"),
    TermWeekSpec(7, "exams", "January exams"),
]
CALM_WEEKS: list[int] = [-4, -2]


@dataclass(frozen=True)
class TermWeek:
    start: datetime
    end: datetime
    kind: str
    label: str


# --- the planted incidents ---


@dataclass(frozen=True)
class IncidentSpec:
    id: str
    service_id: str
    week_offset: int
    weekday: int  # Monday = 0
    onset_local: time
    duration: timedelta
    ramp: timedelta  # time from onset to full strength: minutes for an outage, hours for a slow degradation
    peak_per_hour: float
    description: str
    building: str = ""
    spill: dict[str, float] = field(default_factory=dict)  # other services dragged in, as a share of the peak


PLANTED_INCIDENTS: list[IncidentSpec] = [
    IncidentSpec(
        id="wifi-building",
        service_id="wifi",
        week_offset=-5,
        weekday=2,
        onset_local=time(9, 20),
        duration=timedelta(hours=7, minutes=10),
        ramp=timedelta(hours=4),
        peak_per_hour=16.0,
        description="Wi-Fi degrades in the Hopkins Building over the morning (a failing controller), "
        "complaints build up over hours and all name the building.",
        building="Hopkins Building",
    ),
    IncidentSpec(
        id="email-outage",
        service_id="student-email",
        week_offset=-3,
        weekday=1,
        onset_local=time(8, 35),
        duration=timedelta(hours=2, minutes=30),
        ramp=timedelta(minutes=20),
        peak_per_hour=30.0,
        description="Student and staff e-mail unavailable on a Tuesday morning; many users at once.",
    ),
    IncidentSpec(
        id="vle-deadline",
        service_id="vle",
        week_offset=-1,
        weekday=6,
        onset_local=time(21, 40),
        duration=timedelta(hours=1, minutes=55),
        ramp=timedelta(minutes=5),
        peak_per_hour=75.0,
        description="The VLE fails on the coursework deadline night (Sunday, deadline 23:59): a sharp surge "
        "of complaints from many different students within minutes.",
        spill={"submission": 0.12},
    ),
]


@dataclass(frozen=True)
class PlantedIncident:
    id: str
    service_id: str
    onset: datetime
    end: datetime
    description: str


# --- what is generated ---


@dataclass(frozen=True)
class Channel:
    key: str
    kind: str  # a SourceKind value
    name: str
    share: float  # share of ordinary posts


CHANNELS: list[Channel] = [
    Channel("facebook", "facebook", "Northgate students (Facebook)", 0.34),
    Channel("reddit", "reddit", "r/NorthgateUni (Reddit)", 0.24),
    Channel("mastodon", "mastodon", "Northgate on Mastodon", 0.08),
    Channel("bluesky", "bluesky", "Northgate on Bluesky", 0.12),
    Channel("widget", "widget", "Report a problem (widget)", 0.14),
    Channel("blog", "blog", "CIO blog (comments)", 0.08),
]
CHANNEL_BY_KEY = {c.key: c for c in CHANNELS}


@dataclass(frozen=True)
class DemoPost:
    channel: str
    external_id: str
    text: str
    created_at: datetime
    author: str
    author_id: str
    url: str = ""
    in_reply_to: str = ""
    thread_id: str = ""
    # What the generator meant, for tests and benchmarks (the product never reads it):
    service: str = ""
    intent: str = ""  # complaint | question | praise | neutral | answer | official | offtopic | spam
    incident: str = ""
    payload: dict[str, Any] = field(default_factory=dict)  # platform fields kept in the raw payload

    def raw(self) -> dict[str, Any]:
        return {
            **self.payload,
            "demo": {"service": self.service, "intent": self.intent, "incident": self.incident},
        }


@dataclass(frozen=True)
class DemoTicket:
    reference: str
    opened: datetime
    resolved: datetime | None
    service: str
    priority: str
    incident: str = ""  # the planted incident that led to it (for tests), else ""


@dataclass
class DemoData:
    seed: int
    start: datetime
    end: datetime
    posts: list[DemoPost]
    incidents: list[PlantedIncident]
    calendar: list[TermWeek]
    calm_periods: list[tuple[datetime, datetime]]
    tickets: list[DemoTicket]


# --- rhythms ---

# Relative activity by local hour: quiet nights, a morning climb, busy days, students up late.
HOUR_PROFILE = [
    0.22, 0.12, 0.06, 0.04, 0.04, 0.06, 0.18, 0.5, 1.0, 1.45, 1.65, 1.7,
    1.6, 1.6, 1.6, 1.5, 1.35, 1.15, 1.0, 1.0, 1.05, 1.0, 0.75, 0.45,
]  # fmt: skip
_HOUR_MEAN = sum(HOUR_PROFILE) / 24
DAY_FACTOR = [1.15, 1.15, 1.05, 1.05, 0.85, 0.5, 0.7]  # Monday..Sunday
TERM_FACTOR = {"teaching": 1.0, "reading": 0.55, "exams": 0.95, "holiday": 0.3}
EXAM_SERVICE_FACTOR = {
    "library": 1.7,
    "lecture-capture": 1.6,
    "printing": 1.3,
    "timetabling": 1.6,
    "vle": 1.15,
}

# Posts a day about each service on an ordinary weekday in a teaching week (all channels together).
SERVICE_DAILY: dict[str, float] = {
    "vle": 12.0,
    "student-email": 5.0,
    "wifi": 8.0,
    "portal": 4.0,
    "library": 5.5,
    "vpn": 2.5,
    "printing": 5.0,
    "timetabling": 3.0,
    "submission": 4.0,
    "sso": 4.0,
    "lecture-capture": 3.5,
    "service-desk": 3.5,
}
OFF_TOPIC_DAILY = 7.0
SPAM_DAILY = 2.5
INTENT_MIX = {"complaint": 0.36, "question": 0.2, "praise": 0.2, "neutral": 0.24}
INTENT_MIX_SERVICE_DESK = {"complaint": 0.3, "question": 0.22, "praise": 0.33, "neutral": 0.15}
SUNDAY_RUSH = {"vle": 2.2, "submission": 2.8}  # Sunday 17:00-24:00 in teaching weeks
DEADLINE_RUSH = 1.6  # on top, the evening of the big coursework deadline (week -1)

# How the three kinds of people write.
TICKET_SLA_HOURS = {"P1": 4, "P2": 8, "P3": 72, "P4": 120}


# --- helpers ---


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _week_monday(moment: datetime, tz: tzinfo) -> datetime:
    local = moment.astimezone(tz)
    monday = (local - timedelta(days=local.weekday())).date()
    return datetime.combine(monday, time(0, 0), tzinfo=tz)


def _local_at(monday: datetime, offset_weeks: int, weekday: int, at: time, tz: tzinfo) -> datetime:
    day = (monday + timedelta(weeks=offset_weeks, days=weekday)).date()
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def term_calendar(*, end: datetime, tz: tzinfo | None = None) -> list[TermWeek]:
    """The demo's term calendar around `end` (UTC datetimes, ISO weeks in the organisation's time zone)."""
    tz = tz or ZoneInfo(DEFAULT_TIME_ZONE)
    monday = _week_monday(end, tz)
    weeks = []
    for spec in TERM_WEEKS:
        start = _local_at(monday, spec.offset, 0, time(0, 0), tz)
        stop = _local_at(monday, spec.offset + 1, 0, time(0, 0), tz)
        weeks.append(TermWeek(start=start, end=stop, kind=spec.kind, label=spec.label))
    return weeks


def planted_incidents(*, end: datetime, tz: tzinfo | None = None) -> list[PlantedIncident]:
    """`PLANTED_INCIDENTS` placed in time for a demo ending at `end`."""
    tz = tz or ZoneInfo(DEFAULT_TIME_ZONE)
    monday = _week_monday(end, tz)
    out = []
    for spec in PLANTED_INCIDENTS:
        onset = _local_at(monday, spec.week_offset, spec.weekday, spec.onset_local, tz)
        out.append(
            PlantedIncident(
                id=spec.id,
                service_id=spec.service_id,
                onset=onset,
                end=onset + spec.duration,
                description=spec.description,
            )
        )
    return out


def calm_periods(*, end: datetime, tz: tzinfo | None = None) -> list[tuple[datetime, datetime]]:
    """The calm weeks (no incident planted), as (start, end) in UTC."""
    tz = tz or ZoneInfo(DEFAULT_TIME_ZONE)
    monday = _week_monday(end, tz)
    return [
        (_local_at(monday, off, 0, time(0, 0), tz), _local_at(monday, off + 1, 0, time(0, 0), tz))
        for off in CALM_WEEKS
    ]


# --- people ---


@dataclass
class Person:
    channel: str
    name: str
    author_id: str
    first: str
    style: dict[str, float]


class People:
    """A pool of authors per channel with a heavy tail: weights fall off as a power of the rank."""

    def __init__(self, rng: random.Random, sizes: dict[str, int]) -> None:
        self.rng = rng
        self.pool: dict[str, list[Person]] = {}
        self.weights: dict[str, list[float]] = {}
        used: set[str] = set()
        for channel, size in sizes.items():
            people: list[Person] = []
            while len(people) < size:
                person = self._make(channel)
                if person.author_id in used:
                    continue
                used.add(person.author_id)
                people.append(person)
            self.pool[channel] = people
            self.weights[channel] = [1.0 / (rank + 6) ** 1.1 for rank in range(size)]

    def _style(self) -> dict[str, float]:
        r = self.rng
        return {
            "lower": r.choice([0.0, 0.2, 0.7, 0.95]),
            "slang": r.choice([0.0, 0.1, 0.4, 0.8]),
            "typo": r.choice([0.0, 0.05, 0.15, 0.3]),
            "emoji": r.choice([0.0, 0.1, 0.35, 0.7]),
            "hashtag": r.choice([0.0, 0.05, 0.2, 0.5]),
            "shout": r.choice([0.0, 0.0, 0.05, 0.2]),
        }

    def _make(self, channel: str) -> Person:
        r = self.rng
        first, last = r.choice(w.FIRST_NAMES), r.choice(w.LAST_NAMES)
        number = r.randint(1, 99)
        word = r.choice(w.HANDLE_WORDS)
        if channel in {"facebook", "blog"}:
            name = f"{first} {last}"
            author_id = f"{channel}:{r.randrange(10**14, 10**15)}"
        elif channel == "reddit":
            name = r.choice(
                [
                    f"{word}_{first.lower()}{number}",
                    f"throwaway_ngu{number:02d}",
                    f"{word}{r.choice(w.HANDLE_WORDS)}",
                ]
            )
            author_id = f"t2_{''.join(r.choices(string.ascii_lowercase + string.digits, k=8))}"
        elif channel == "mastodon":
            handle = r.choice(
                [f"{first.lower()}_{last[0].lower()}", f"{word}{number}", f"{first.lower()}{word}"]
            )
            name = f"@{handle}@{r.choice(w.MASTODON_SERVERS)}"
            author_id = f"mastodon:{r.randrange(10**17, 10**18)}"
        elif channel == "bluesky":
            name = r.choice(
                [f"{first.lower()}{last.lower()}.bsky.social", f"{word}-{first.lower()}.bsky.social"]
            )
            author_id = f"did:plc:{''.join(r.choices(string.ascii_lowercase + '234567', k=24))}"
        else:  # widget: anonymous (a signed token) or signed in through the portal's single sign-on
            name = "" if r.random() < 0.7 else f"s{r.randrange(10**6, 10**7)}"
            author_id = f"{r.getrandbits(96):024x}"  # the widget's per-person pseudonym
        return Person(channel=channel, name=name, author_id=author_id, first=first, style=self._style())

    def regular(self, channel: str) -> Person:
        return self.rng.choices(self.pool[channel], weights=self.weights[channel])[0]

    def anyone(self, channel: str) -> Person:
        """Anyone in the channel, each as likely: the many people an outage touches at once."""
        return self.rng.choice(self.pool[channel])


# --- words ---

_DOUBLE_ARTICLE = re.compile(r"\b(my|the|no|this) (the|my) ", re.IGNORECASE)


def _one_article(match: re.Match[str]) -> str:
    """Collapse two articles, as in "my the timetable" (the template and the name brought one each)."""
    first, second = match.group(1).lower(), match.group(2).lower()
    if first in {"no", "this"}:
        return match.group(1) + " "
    return "my " if "my" in (first, second) else match.group(1) + " "


_SLANG = [
    ("you", "u"),
    ("right now", "rn"),
    ("to be honest", "tbh"),
    ("please", "pls"),
    ("because", "cos"),
    ("really", "rly"),
    ("going to", "gonna"),
    ("I don't know", "idk"),
    ("though", "tho"),
]


class Writer:
    def __init__(self, rng: random.Random, aliases: dict[str, list[str]]) -> None:
        self.rng = rng
        self.aliases = aliases

    def fill(self, template: str, *, service: str = "", building: str = "", first: str = "") -> str:
        r = self.rng
        alias = self._alias(service) if service else "it"
        values = {
            "alias": alias,
            "building": building or r.choice(w.BUILDINGS),
            "room": r.choice(w.ROOMS),
            "module": r.choice(w.MODULES),
            "device": r.choice(w.DEVICES),
            "since": r.choice(w.SINCE),
            "bad": r.choice(w.BAD_EMOJI),
            "good": r.choice(w.GOOD_EMOJI),
            "first": first or r.choice(w.FIRST_NAMES),
            "n": str(r.randint(2, 9)),
            "digits": "".join(r.choices(string.digits, k=9)),
        }
        text = _DOUBLE_ARTICLE.sub(_one_article, template.format(**values))
        return text[0].upper() + text[1:] if text[:1].islower() and r.random() < 0.5 else text

    def _alias(self, service: str) -> str:
        names = w.SPOKEN_NAMES.get(service) or self.aliases.get(service) or [service]
        # The first alias is the common name; the others turn up less often.
        weights = [3.0] + [1.0] * (len(names) - 1)
        return self.rng.choices(names, weights=weights)[0]

    def roughen(
        self, text: str, *, style: dict[str, float], channel: str, service: str = "", mood: str = ""
    ) -> str:
        r = self.rng
        if r.random() < style["slang"]:
            for long, short in _SLANG:
                if long in text and r.random() < 0.7:
                    text = text.replace(long, short)
        if r.random() < style["lower"]:
            text = text.lower().replace("'", "") if r.random() < 0.5 else text.lower()
        if r.random() < style["typo"]:
            text = self._typo(text)
        if r.random() < style["shout"]:
            text = text.upper() + r.choice(["!!", "!!!", "?!"])
        tag_bias = 2.0 if channel in {"mastodon", "bluesky"} else 0.6
        if r.random() < style["hashtag"] * tag_bias:
            tags = list(w.HASHTAGS) + w.SERVICE_HASHTAGS.get(service, []) * 2
            text = f"{text} {r.choice(tags)}"
        if mood and r.random() < style["emoji"] and not any(e in text for e in w.BAD_EMOJI + w.GOOD_EMOJI):
            text = f"{text} {r.choice(w.BAD_EMOJI if mood == 'bad' else w.GOOD_EMOJI)}"
        return text

    def _typo(self, text: str) -> str:
        words = text.split(" ")
        candidates = [i for i, word in enumerate(words) if len(word) > 4 and word.isalpha()]
        if not candidates:
            return text
        i = self.rng.choice(candidates)
        word = words[i]
        j = self.rng.randrange(1, len(word) - 2)
        kind = self.rng.random()
        if kind < 0.4:
            word = word[:j] + word[j + 1] + word[j] + word[j + 2 :]  # swapped letters
        elif kind < 0.7:
            word = word[:j] + word[j + 1 :]  # a dropped letter
        else:
            word = word[:j] + word[j] * 3 + word[j + 1 :]  # sooo
        words[i] = word
        return " ".join(words)


# --- the generator ---


class _Ids:
    """Platform-shaped external ids and URLs, unique per channel."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.seen: set[str] = set()
        self.fb_post = f"{rng.randrange(10**14, 10**15)}"

    def new(self, channel: str, person: Person, parent: str = "") -> tuple[str, str]:
        r = self.rng
        while True:
            if channel == "facebook":
                ext = f"{self.fb_post}_{r.randrange(10**15, 10**16)}"
                url = f"https://www.facebook.com/NorthgateUniIT/posts/{self.fb_post}?comment_id={ext.split('_')[1]}"
            elif channel == "reddit":
                base = "".join(r.choices(string.ascii_lowercase + string.digits, k=7))
                ext = f"t1_{base}" if parent else f"t3_{base}"
                url = f"https://www.reddit.com/r/NorthgateUni/comments/{base}/"
            elif channel == "mastodon":
                ext = str(r.randrange(10**17, 10**18))
                handle, _, server = person.name.lstrip("@").partition("@")
                url = f"https://{server or 'mastodon.social'}/@{handle}/{ext}"
            elif channel == "bluesky":
                rkey = "3l" + "".join(r.choices(string.ascii_lowercase + "234567", k=11))
                ext = f"at://{person.author_id}/app.bsky.feed.post/{rkey}"
                url = f"https://bsky.app/profile/{person.name}/post/{rkey}"
            elif channel == "widget":
                ext = f"{r.getrandbits(128):032x}"
                url = ""
            else:
                ext = f"comment-{r.randrange(10**5, 10**6)}"
                url = f"https://it.northgate.example/blog/#{ext}"
            if ext not in self.seen:
                self.seen.add(ext)
                return ext, url


@dataclass
class _Root:
    time: datetime
    channel: str
    service: str
    intent: str
    incident: str = ""
    building: str = ""
    person: Person | None = None
    text: str = ""


def generate(
    *,
    seed: int = DEFAULT_SEED,
    end: datetime | None = None,
    aliases: dict[str, list[str]] | None = None,
    names: dict[str, str] | None = None,
    tz: tzinfo | None = None,
) -> DemoData:
    """Six weeks of posts ending at `end` (default: now, to the minute). Same seed and end, same posts."""
    tz = tz or ZoneInfo(DEFAULT_TIME_ZONE)
    if end is None:
        end = datetime.now(UTC)
    if end.tzinfo is None:
        raise ValueError("end must be timezone-aware")
    end = end.astimezone(UTC).replace(second=0, microsecond=0)
    start = end - SPAN
    from servicepulse.demo.catalog import DEMO_CATALOG

    if aliases is None:
        aliases = {s["id"]: list(s["aliases"]) for s in DEMO_CATALOG["services"]}
    if names is None:
        names = {s["id"]: s["name"] for s in DEMO_CATALOG["services"]}
    rng = random.Random(seed)
    people = People(
        rng, {"facebook": 420, "reddit": 300, "mastodon": 70, "bluesky": 130, "widget": 260, "blog": 60}
    )
    writer = Writer(rng, aliases)
    ids = _Ids(rng)
    calendar = term_calendar(end=end, tz=tz)
    incidents = planted_incidents(end=end, tz=tz)
    monday0 = _week_monday(end, tz)

    def term_kind(moment: datetime) -> str:
        for week in calendar:
            if week.start <= moment < week.end:
                return week.kind
        return "teaching"

    deadline_evening = _local_at(monday0, -1, 6, time(17, 0), tz)
    roots: list[_Root] = []
    ordinary_channels = {c.key: c.share for c in CHANNELS}

    # Ordinary chatter, hour by hour.
    hour = start.replace(minute=0)
    while hour < end:
        local = hour.astimezone(tz)
        kind = term_kind(hour)
        base = HOUR_PROFILE[local.hour] / _HOUR_MEAN * DAY_FACTOR[local.weekday()] * TERM_FACTOR[kind]
        sunday_evening = local.weekday() == 6 and local.hour >= 17 and kind != "reading"
        for service, daily in SERVICE_DAILY.items():
            rate = daily / 24 * base
            if kind == "exams":
                rate *= EXAM_SERVICE_FACTOR.get(service, 1.0)
            if sunday_evening and service in SUNDAY_RUSH:
                rate *= SUNDAY_RUSH[service]
                if deadline_evening <= hour < deadline_evening + timedelta(hours=7):
                    rate *= DEADLINE_RUSH
            mix = INTENT_MIX_SERVICE_DESK if service == "service-desk" else INTENT_MIX
            for _ in range(_poisson(rng, rate)):
                intent = _pick(rng, mix)
                channel = _pick(rng, ordinary_channels)
                if channel == "widget":
                    intent = "complaint"  # people use the widget to report problems
                elif channel == "blog" and rng.random() < 0.8:
                    continue  # the blog's comments are a quieter channel, mostly about posts
                roots.append(_Root(hour + timedelta(seconds=rng.randrange(3600)), channel, service, intent))
        for _ in range(_poisson(rng, OFF_TOPIC_DAILY / 24 * base)):
            channel = _pick(rng, {"facebook": 0.45, "reddit": 0.35, "mastodon": 0.08, "bluesky": 0.12})
            roots.append(_Root(hour + timedelta(seconds=rng.randrange(3600)), channel, "", "offtopic"))
        for _ in range(_poisson(rng, SPAM_DAILY / 24 * (0.6 + 0.4 * base))):
            channel = _pick(rng, {"facebook": 0.5, "blog": 0.3, "reddit": 0.1, "bluesky": 0.1})
            roots.append(_Root(hour + timedelta(seconds=rng.randrange(3600)), channel, "", "spam"))
        if local.weekday() == 2 and local.hour == 10:  # the weekly CIO blog post draws a few comments
            for _ in range(_poisson(rng, 3.0 * TERM_FACTOR[kind])):
                service = rng.choice(list(SERVICE_DAILY))
                offset = timedelta(minutes=rng.randrange(20, 60 * 30))
                roots.append(_Root(hour + offset, "blog", service, "blogcomment"))
        hour += timedelta(hours=1)

    # The planted incidents, five minutes at a time.
    for spec, incident in zip(PLANTED_INCIDENTS, incidents, strict=True):
        roots.extend(_incident_roots(rng, spec, incident, end))

    # One person, five angry posts about printing within an hour, in a calm week: not an outage.
    rant_at = _local_at(monday0, -2, 3, time(14, 5), tz)
    ranter = people.regular("reddit")
    for k in range(5):
        roots.append(
            _Root(
                rant_at + timedelta(minutes=9 * k + rng.randrange(4)),
                "reddit",
                "printing",
                "complaint",
                person=ranter,
            )
        )

    roots = [root for root in roots if start <= root.time < end]
    roots.sort(key=lambda root: (root.time, root.channel, root.service, root.intent))

    posts: list[DemoPost] = []
    used_in_incident: dict[str, set[str]] = {}
    last_report: dict[tuple[str, str], datetime] = {}
    for root in roots:
        person = root.person or _author_for(rng, people, root, used_in_incident)
        if root.channel == "widget":
            # The widget counts one report per person per service per hour.
            key = (person.author_id, root.service)
            if key in last_report and root.time - last_report[key] < timedelta(hours=1):
                continue
            last_report[key] = root.time
            post = _widget_report(rng, writer, ids, root, person, names)
            posts.append(post)
            continue
        text = root.text or _root_text(rng, writer, root, person)
        if root.intent not in {"spam"}:
            text = writer.roughen(
                text,
                style=person.style,
                channel=root.channel,
                service=root.service,
                mood=_MOOD.get(root.intent, ""),
            )
        ext, url = ids.new(root.channel, person)
        post = DemoPost(
            channel=root.channel,
            external_id=ext,
            text=text,
            created_at=root.time,
            author=person.name,
            author_id=person.author_id,
            url=url,
            service=root.service,
            intent="complaint" if root.intent == "blogcomment" else root.intent,
            incident=root.incident,
        )
        if root.intent == "blogcomment":
            post = _replace(post, intent="praise" if "improve" in text or "Thanks" in text else "neutral")
        posts.append(post)
        posts.extend(_replies(rng, writer, people, ids, post, end, root.building))

    posts.sort(key=lambda p: (p.created_at, p.channel, p.external_id))
    tickets = _tickets(rng, start, end, incidents, tz)
    return DemoData(
        seed=seed,
        start=start,
        end=end,
        posts=posts,
        incidents=incidents,
        calendar=calendar,
        calm_periods=calm_periods(end=end, tz=tz),
        tickets=tickets,
    )


_MOOD = {"complaint": "bad", "praise": "good", "recovered": "good"}


def _replace(post: DemoPost, **changes: Any) -> DemoPost:
    from dataclasses import replace

    return replace(post, **changes)


def _incident_strength(spec: IncidentSpec, incident: PlantedIncident, moment: datetime) -> float:
    """0..1: how hard the incident bites at `moment` (ramps up from the onset, tails off after the end)."""
    if moment < incident.onset:
        return 0.0
    if moment >= incident.end:
        after = (moment - incident.end) / timedelta(minutes=20)
        return max(0.0, 0.3 * (1 - after))
    ramp = max(spec.ramp / timedelta(minutes=1), 1.0)
    elapsed = (moment - incident.onset) / timedelta(minutes=1)
    # A slow degradation starts as a trickle of complaints and keeps growing for hours; an outage is at
    # full strength within minutes.
    rise = min(1.0, elapsed / ramp)
    return 0.45 + 0.55 * rise if spec.ramp >= timedelta(hours=1) else max(rise, 0.35)


def _incident_roots(
    rng: random.Random, spec: IncidentSpec, incident: PlantedIncident, end: datetime
) -> list[_Root]:
    roots = []
    step = timedelta(minutes=5)
    moment = incident.onset
    stop = incident.end + timedelta(minutes=20)
    channels = {"facebook": 0.38, "reddit": 0.2, "bluesky": 0.12, "mastodon": 0.05, "widget": 0.25}
    while moment < stop and moment < end:
        lam = spec.peak_per_hour / 12 * _incident_strength(spec, incident, moment)
        for service, share in [(spec.service_id, 1.0), *spec.spill.items()]:
            for _ in range(_poisson(rng, lam * share)):
                at = moment + timedelta(seconds=rng.randrange(300))
                intent = "question" if rng.random() < 0.12 else "complaint"
                roots.append(
                    _Root(at, _pick(rng, channels), service, intent, incident=spec.id, building=spec.building)
                )
        moment += step
    # Afterwards, a few say it is back.
    for _ in range(rng.randint(3, 6)):
        at = incident.end + timedelta(minutes=rng.randrange(5, 50))
        roots.append(
            _Root(
                at,
                _pick(rng, channels),
                spec.service_id,
                "recovered",
                incident=spec.id,
                building=spec.building,
            )
        )
    return roots


def _author_for(rng: random.Random, people: People, root: _Root, used: dict[str, set[str]]) -> Person:
    if not root.incident or root.intent == "recovered":
        return people.regular(root.channel)
    # Outages touch many different people: mostly someone not yet heard from in this incident.
    seen = used.setdefault(root.incident, set())
    for _ in range(8):
        person = people.anyone(root.channel)
        if person.author_id not in seen or rng.random() < 0.08:
            seen.add(person.author_id)
            return person
    return person


def _root_text(rng: random.Random, writer: Writer, root: _Root, person: Person) -> str:
    if root.intent == "spam":
        return writer.fill(rng.choice(w.SPAM))
    if root.intent == "offtopic":
        return writer.fill(rng.choice(w.OFF_TOPIC))
    if root.intent == "blogcomment":
        return writer.fill(rng.choice(w.BLOG_COMMENTS), service=root.service)
    if root.intent == "recovered":
        return writer.fill(
            rng.choice(w.INCIDENT_AFTER[root.incident]), service=root.service, building=root.building
        )
    if root.incident and root.service in {
        spec.service_id for spec in PLANTED_INCIDENTS if spec.id == root.incident
    }:
        bank = (
            w.INCIDENT_TEXTS[root.incident].get(root.intent) or w.INCIDENT_TEXTS[root.incident]["complaint"]
        )
        return writer.fill(rng.choice(bank), service=root.service, building=root.building)
    bank = w.SERVICE_TEXTS[root.service][root.intent]
    return writer.fill(rng.choice(bank), service=root.service, building=root.building)


def _widget_report(
    rng: random.Random, writer: Writer, ids: _Ids, root: _Root, person: Person, names: dict[str, str]
) -> DemoPost:
    """A report-a-problem widget report, shaped as the widget connector stores one: the chosen service and
    problem type, and the sentence the person added (optional)."""
    problem = rng.choice(w.WIDGET_PROBLEMS.get(root.service, ["other"]))
    label = w.WIDGET_PROBLEM_LABELS[problem]
    comment = ""
    if rng.random() < 0.65:
        comment = writer.roughen(
            _root_text(rng, writer, root, person), style=person.style, channel="widget", service=root.service
        )
    name = names.get(root.service, root.service)
    text = f"{name} — {label.lower()}" + (f": {comment}" if comment else "")
    ext, _ = ids.new("widget", person)
    return DemoPost(
        channel="widget",
        external_id=ext,
        text=text,
        created_at=root.time,
        author=person.name,
        author_id=person.author_id,
        service=root.service,
        intent="complaint",
        incident=root.incident,
        payload={
            "service_id": root.service,
            "problem": problem,
            "problem_label": label,
            "comment": comment,
            "page": "https://learn.northgate.example/my/",
            "channel": "widget",
        },
    )


def _replies(
    rng: random.Random,
    writer: Writer,
    people: People,
    ids: _Ids,
    parent: DemoPost,
    end: datetime,
    building: str,
) -> list[DemoPost]:
    if parent.channel == "widget" or parent.intent == "spam":
        return []
    chance = {"complaint": 0.3, "question": 0.55, "praise": 0.15, "offtopic": 0.2}.get(parent.intent, 0.05)
    if parent.incident:
        chance = 0.35
    if rng.random() >= chance:
        return []
    replies: list[DemoPost] = []
    at = parent.created_at
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
        at = at + timedelta(minutes=rng.expovariate(1 / 25) + 0.5)
        if at >= end:
            break
        if parent.intent in {"complaint"} and parent.channel == "facebook" and rng.random() < 0.25:
            person = Person(parent.channel, w.OFFICIAL_AUTHOR, "facebook:northgate-it", "", {})
            first = parent.author.split(" ")[0]
            text = writer.fill(rng.choice(w.REPLY_OFFICIAL[:3]), first=first)
            intent, service = "official", parent.service
        elif parent.intent == "praise" and parent.channel == "facebook" and rng.random() < 0.3:
            person = Person(parent.channel, w.OFFICIAL_AUTHOR, "facebook:northgate-it", "", {})
            text = writer.fill(w.REPLY_OFFICIAL[3], first=parent.author.split(" ")[0])
            intent, service = "official", parent.service
        else:
            person = people.anyone(parent.channel) if parent.incident else people.regular(parent.channel)
            if person.author_id == parent.author_id:
                continue
            if parent.intent == "complaint":
                bank, intent = (
                    (w.REPLY_AGREE, "complaint") if rng.random() < 0.65 else (w.REPLY_ANSWER, "answer")
                )
            elif parent.intent == "question":
                bank, intent = w.REPLY_ANSWER, "answer"
            elif parent.intent == "praise":
                bank, intent = w.REPLY_PRAISE, "praise"
            else:
                bank, intent = w.REPLY_PRAISE + w.REPLY_AGREE[:2], "neutral"
            text = writer.roughen(
                writer.fill(rng.choice(bank), service=parent.service, building=building),
                style=person.style,
                channel=parent.channel,
                service=parent.service,
                mood=_MOOD.get(intent, ""),
            )
            service = parent.service
        ext, url = ids.new(parent.channel, person, parent=parent.external_id)
        replies.append(
            DemoPost(
                channel=parent.channel,
                external_id=ext,
                text=text,
                created_at=at,
                author=person.name,
                author_id=person.author_id,
                url=url,
                in_reply_to=parent.external_id,
                thread_id=parent.thread_id or parent.external_id,
                service=service,
                intent=intent,
                incident=parent.incident if intent == "complaint" else "",
            )
        )
    return replies


def _tickets(
    rng: random.Random, start: datetime, end: datetime, incidents: list[PlantedIncident], tz: tzinfo
) -> list[DemoTicket]:
    """Service-desk tickets: office hours, most resolved within target; incidents reach the desk late."""
    services = list(SERVICE_DAILY)
    weights = [SERVICE_DAILY[s] for s in services]
    tickets: list[DemoTicket] = []
    priorities = {"P1": 0.02, "P2": 0.1, "P3": 0.6, "P4": 0.28}

    def resolve(opened: datetime, priority: str, slow: float = 1.0) -> datetime | None:
        hours = TICKET_SLA_HOURS[priority] * rng.lognormvariate(-0.9, 0.6) * slow
        resolved = opened + timedelta(hours=hours)
        return resolved if resolved < end else None

    day = start.astimezone(tz).replace(hour=0, minute=0)
    n = 0
    while day.astimezone(UTC) < end:
        open_hours = range(8, 18) if day.weekday() < 5 else range(10, 14)
        for hour in open_hours:
            for _ in range(_poisson(rng, 2.2 if day.weekday() < 5 else 0.6)):
                opened = day.replace(hour=hour, minute=rng.randrange(60)).astimezone(UTC)
                if not start <= opened < end:
                    continue
                priority = _pick(rng, priorities)
                n += 1
                tickets.append(
                    DemoTicket(
                        f"INC{100000 + n}",
                        opened,
                        resolve(opened, priority),
                        rng.choices(services, weights)[0],
                        priority,
                    )
                )
        day = (day + timedelta(days=1, hours=2)).replace(hour=0)
    # Each incident reaches the desk only when it opens (the VLE on a Sunday night: Monday morning).
    for incident in incidents:
        first = incident.onset + timedelta(minutes=rng.randrange(35, 80))
        local = first.astimezone(tz)
        if local.weekday() >= 5 or not 8 <= local.hour < 18:
            next_day = local + timedelta(days=1)
            while next_day.weekday() >= 5:
                next_day += timedelta(days=1)
            first = next_day.replace(hour=8, minute=5 + rng.randrange(20)).astimezone(UTC)
        for k in range(rng.randint(6, 14)):
            opened = first + timedelta(minutes=k * rng.randrange(3, 15))
            if opened >= end:
                break
            n += 1
            priority = "P2" if k == 0 else "P3"
            tickets.append(
                DemoTicket(
                    f"INC{100000 + n}",
                    opened,
                    resolve(opened, priority, 0.6),
                    incident.service_id,
                    priority,
                    incident.id,
                )
            )
    tickets.sort(key=lambda t: (t.opened, t.reference))
    return tickets
