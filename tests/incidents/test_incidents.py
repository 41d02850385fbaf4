"""Incidents end to end: detection over stored mentions, the state function, "me too", maintenance."""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from servicepulse.analysis.selectors import AnalysedPost, analysed_posts
from servicepulse.analysis.services import analysis_save
from servicepulse.incidents import selectors, services
from servicepulse.incidents.explain import (
    corroborator,
    default_embedder,
    explain,
    representative_posts,
    rising_terms,
    shared_term,
    shared_words,
    usual_words,
)
from servicepulse.incidents.models import (
    ActivityType,
    DetectorSnapshot,
    Incident,
    IncidentKind,
    IncidentMention,
    IncidentState,
)
from servicepulse.mentions.models import Mention
from servicepulse.sources.models import Audience
from tests.factories import MentionFactory, ServiceFactory, SourceFactory, analysed

pytestmark = pytest.mark.django_db
START = datetime(2025, 10, 6, tzinfo=UTC)  # Monday
CALM_TEXTS = [
    "moodle is slow this afternoon",
    "cannot find the quiz on moodle",
    "vle keeps logging me out",
    "the course page layout is confusing",
]
OUTAGE_TEXTS = [
    "moodle down, 502 bad gateway when uploading my essay",
    "VLE down again? upload fails with 502 gateway error",
    "cant upload assignment, moodle says bad gateway",
    "moodle 502 error right before the deadline!!",
]


class Posts:
    """Analysed posts built over real Mention rows, read the way the analysis app would hand them over."""

    def __init__(self) -> None:
        self.posts: list[AnalysedPost] = []

    def __call__(
        self, *, since: datetime, until: datetime, service_ids: list[str] | None = None
    ) -> Iterator[AnalysedPost]:
        for post in self.posts:
            if since <= post.created_at < until and (
                service_ids is None or set(post.service_ids) & set(service_ids)
            ):
                yield post

    def add(
        self, mention: Mention, service_id: str, *, complaint: bool = True, also: tuple[str, ...] = ()
    ) -> None:
        """`mention` as analysed: tagged to `service_id` first, then to the services `also` names."""
        self.posts.append(
            AnalysedPost(
                mention_id=mention.pk,
                created_at=mention.created_at,
                author_key=mention.author_key,
                author=mention.author,
                text=mention.text,
                service_ids=(service_id, *also),
                complaint=complaint,
                sentiment=-0.6 if complaint else 0.3,
                spam=False,
            )
        )


def _poisson(rng: random.Random, lam: float) -> int:
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


@pytest.fixture
def campus() -> tuple[Posts, str, datetime]:
    """Twelve days of ordinary VLE complaints, then an outage on day 10 at 21:00 (40 people in 2 hours)."""
    service = ServiceFactory(id="vle", name="Moodle VLE")
    source = SourceFactory()
    posts = Posts()
    rng = random.Random(7)
    n = 0
    for i in range(12 * 96):
        ts = START + timedelta(minutes=15 * i)
        rate = 0.05 + 0.4 * max(0.0, math.sin(math.pi * (ts.hour - 7) / 16))
        for _ in range(_poisson(rng, rate)):
            n += 1
            m = MentionFactory(
                source=source,
                external_id=f"c{n}",
                text=rng.choice(CALM_TEXTS),
                author=f"user{rng.randint(1, 300)}",
                author_id="",
                created_at=ts + timedelta(minutes=rng.randint(0, 14)),
            )
            posts.add(m, service.pk)
    onset = START + timedelta(days=10, hours=21)
    for j in range(40):
        m = MentionFactory(
            source=source,
            external_id=f"o{j}",
            text=OUTAGE_TEXTS[j % 4],
            author=f"student{j}",
            author_id="",
            created_at=onset + timedelta(minutes=3 * j),
        )
        posts.add(m, service.pk)
    return posts, service.pk, onset


def test_detection_opens_confirms_explains_and_resolves(campus: tuple[Posts, str, datetime]) -> None:
    posts, service_id, onset = campus
    summary = services.run_detection(now=START + timedelta(days=12), since=START, reader=posts)
    incidents = list(Incident.objects.filter(kind=IncidentKind.DETECTED))
    assert len(incidents) == 1, summary
    incident = incidents[0]
    assert incident.state == IncidentState.RESOLVED
    assert onset <= incident.confirmed_at <= onset + timedelta(minutes=45)
    assert onset - timedelta(minutes=30) <= incident.started_at <= onset + timedelta(minutes=15)
    assert incident.affected_authors >= 35
    terms = [t["term"] for t in incident.explanation["terms"]]
    assert {"502", "gateway"} & set(terms) or "down" in terms
    assert len(incident.explanation["representatives"]) >= 2
    states = [
        a.state
        for a in incident.activities.filter(type__in=[ActivityType.CREATED, ActivityType.STATE_CHANGED])
    ]
    assert states == [IncidentState.POSSIBLE, IncidentState.CONFIRMED, IncidentState.RESOLVED]
    # Four of the first five people name the same error, unheard of in the usual complaints: that confirms
    # the rise before its count alone would. The timeline says so, and how strong the rise was, in words.
    confirmed = incident.activities.get(state=IncidentState.CONFIRMED).comment
    assert re.match(
        r"confirmed: \d people wrote “(502|gateway|bad)”, rare in the usual complaints", confirmed
    )
    assert "the rise is at " in confirmed and "% of the strength that confirms an incident" in confirmed
    detail = selectors.incident_detail(incident_id=incident.pk)
    assert detail is not None and len(detail.posts) >= 35 and detail.explanation["summary"]
    # Idempotent: the same buckets are not fed twice.
    again = services.run_detection(now=START + timedelta(days=12), reader=posts)
    assert again.buckets == 0
    assert DetectorSnapshot.objects.get(service_id=service_id).last_bucket == START + timedelta(
        days=12, minutes=-15
    )


def test_complaints_mainly_about_another_service_do_not_open_an_incident_here(
    campus: tuple[Posts, str, datetime],
) -> None:
    """During the VLE outage, a dozen people write that they cannot get into Moodle through the sign-on page:
    tagged to the VLE first and to single sign-on second. They count for sign-on too, but an incident needs
    three people whose complaints are mainly about the service, so sign-on, quiet otherwise, opens nothing;
    the VLE's incident gathers them. Three people mainly about sign-on do open one."""
    posts, vle, onset = campus
    sso = ServiceFactory(id="sso", name="Single sign-on").pk
    source = SourceFactory()
    rng = random.Random(3)
    for day in range(12):  # a sign-on complaint every other day
        if day % 2 == 0:
            moment = START + timedelta(days=day, hours=10, minutes=rng.randint(0, 300))
            mention = MentionFactory(source=source, text="sso page slow to load", created_at=moment)
            posts.add(mention, sso)
    for j in range(12):
        mention = MentionFactory(
            source=source,
            text="can't get into moodle, the sign-on page just loops",
            author=f"looped{j}",
            author_id="",
            created_at=onset + timedelta(minutes=2 + 4 * j),
        )
        posts.add(mention, vle, also=(sso,))
    services.run_detection(now=START + timedelta(days=12), since=START, reader=posts)
    assert not Incident.objects.filter(service_id=sso).exists()
    outage = Incident.objects.get(service_id=vle, kind=IncidentKind.DETECTED)
    looped = IncidentMention.objects.filter(
        incident=outage, mention__text__contains="sign-on page just loops"
    )
    assert looped.count() == 12
    # Four people whose complaints are mainly about sign-on, the next day: an incident of its own.
    for j in range(4):
        mention = MentionFactory(
            source=source,
            text="single sign-on rejects my password, moodle too",
            author=f"locked{j}",
            author_id="",
            created_at=START + timedelta(days=12, hours=10, minutes=3 * j),
        )
        posts.add(mention, sso, also=(vle,))
    services.run_detection(now=START + timedelta(days=12, hours=12), reader=posts)
    assert Incident.objects.filter(service_id=sso, kind=IncidentKind.DETECTED).count() == 1


def test_an_outage_whose_posts_share_no_unusual_word_is_confirmed_on_its_count_later(
    campus: tuple[Posts, str, datetime],
) -> None:
    """The same 40 people as above, in the words of the usual complaints: nothing corroborates the rise but
    its size, so it is confirmed when the count alone is strong enough, later than the outage whose posts
    name one error."""
    posts, _service_id, onset = campus
    outage = {m.pk for m in Mention.objects.filter(external_id__startswith="o")}
    services.run_detection(now=START + timedelta(days=12), since=START, reader=posts)
    corroborated_at = Incident.objects.get(kind=IncidentKind.DETECTED).confirmed_at
    Incident.objects.all().delete()
    DetectorSnapshot.objects.all().delete()
    posts.posts = [
        replace(p, text=CALM_TEXTS[p.mention_id % len(CALM_TEXTS)]) if p.mention_id in outage else p
        for p in posts.posts
    ]
    services.run_detection(now=START + timedelta(days=12), since=START, reader=posts)
    incident = Incident.objects.get(kind=IncidentKind.DETECTED)
    assert corroborated_at is not None and incident.confirmed_at is not None
    assert corroborated_at < incident.confirmed_at <= onset + timedelta(minutes=45)
    confirmed = incident.activities.get(state=IncidentState.CONFIRMED).comment
    assert confirmed.startswith("confirmed: the rise is ") and "x as strong as it takes" in confirmed


def test_maintenance_suppresses_detection_and_collects_complaints(
    campus: tuple[Posts, str, datetime],
) -> None:
    posts, service_id, onset = campus
    window = services.maintenance_schedule(
        service_id=service_id,
        title="VLE upgrade",
        start=onset - timedelta(minutes=5),
        end=onset + timedelta(hours=3),
    )
    services.run_detection(now=START + timedelta(days=12), since=START, reader=posts)
    assert not Incident.objects.filter(kind=IncidentKind.DETECTED).exists()
    window.refresh_from_db()
    assert window.affected_authors >= 35


def test_state_changes_only_through_the_service(django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    service = ServiceFactory(id="wifi", name="Wi-Fi")
    with django_capture_on_commit_callbacks() as callbacks:
        incident = services.incident_create(
            service_id=service.pk,
            title="Wi-Fi down in the library",
            started_at=START,
            kind=IncidentKind.MANUAL,
        )
    assert len(callbacks) == 1  # alerts are queued after the commit
    services.incident_update_status(incident=incident, state=IncidentState.RESOLVED, comment="fixed")
    incident.refresh_from_db()
    assert incident.state == IncidentState.RESOLVED and incident.resolved_at is not None
    activity = incident.activities.last()
    assert activity is not None
    assert (activity.previous_state, activity.state, activity.comment) == ("confirmed", "resolved", "fixed")
    services.incident_update_status(incident=incident, state=IncidentState.CONFIRMED, comment="back again")
    incident.refresh_from_db()
    assert incident.state == IncidentState.CONFIRMED and incident.resolved_at is None
    with pytest.raises(services.IncidentError):
        services.incident_update_status(incident=incident, state=IncidentState.POSSIBLE)
    assert incident.activities.count() == 3


def test_me_too_counts_people_once() -> None:
    service = ServiceFactory(id="email", name="Student e-mail")
    source = SourceFactory()
    incident = services.incident_create(service_id=service.pk, title="E-mail outage", started_at=START)
    mentions = [
        MentionFactory(source=source, external_id=f"m{i}", author=f"person{i % 3}", author_id="")
        for i in range(6)
    ]
    added = services.incident_attach_mentions(
        incident=incident, posts=[(m.pk, m.author_key) for m in mentions]
    )
    assert added == 6
    assert (
        services.incident_attach_mentions(incident=incident, posts=[(mentions[0].pk, mentions[0].author_key)])
        == 0
    )
    incident.refresh_from_db()
    assert incident.affected_authors == 3
    assert selectors.open_incidents_by_service(service_ids=["email"])["email"] == [incident]
    assert incident.board_state == "incident"


def test_maintenance_needs_an_end_after_its_start() -> None:
    service = ServiceFactory(id="vpn", name="VPN")
    with pytest.raises(services.IncidentError):
        services.maintenance_schedule(service_id=service.pk, title="x", start=START, end=START)


def test_rising_terms_and_representatives() -> None:
    terms = rising_terms(OUTAGE_TEXTS * 3, CALM_TEXTS * 10)
    assert terms[0]["term"] in {"502", "gateway", "upload", "bad", "down"}
    assert all(t["ratio"] > 1.5 for t in terms)
    reps = representative_posts(
        [*OUTAGE_TEXTS, "the printer costs too much", "the printer on floor 2 jams"], k=2
    )
    assert len(reps) == 2
    assert any("print" in r for r in reps) and any("moodle" in r.lower() or "vle" in r.lower() for r in reps)


def test_rising_terms_leave_out_the_fillers_of_posts() -> None:
    """The demo's rising terms included "else" (from "anyone else"), "fine", "anything", "works", "says" and
    "trying": words of how people write, not of what is wrong."""
    outage = [
        "is moodle down for anyone else?? upload fails",
        "moodle upload not working for anyone else, says gateway error",
        "literally been trying to upload on moodle for 30 mins, anything?",
        "upload fails on moodle, it was fine this morning, anyone else's works?",
        "moodle says gateway error on upload, still trying",
        "works fine on my phone but moodle upload gives a gateway error, can I do anything",
    ]
    terms = [t["term"] for t in rising_terms(outage, CALM_TEXTS * 10)]
    assert terms[:2] == ["upload", "gateway"]
    assert not {"else", "else's", "fine", "anything", "works", "says", "trying"} & set(terms)


def test_representatives_say_what_is_wrong_not_that_others_agree() -> None:
    """The demo's incident pages showed "omg I thought it was just me", "Literally same 😑", "it's not just
    you" and "tried it on a different browser and it worked" as representative posts. Agreeing replies count
    as their authors' complaints, yet say nothing; one post unlike all the others stands for no group."""
    describing = [
        "moodle down, 502 bad gateway when uploading my essay",
        "VLE down again? upload fails with 502 gateway error",
        "cant upload assignment, moodle says bad gateway",
        "moodle 502 error right before the deadline!!",
        "moodle gateway error on the essay upload page",
        "moodle crashed halfway through my upload and now it says not submitted",
        "the printer in the library jams on every page",
        "library printer jams and eats my printing credit",
    ]
    agreeing = [
        "same here",
        "omg I thought it was just me",
        "Literally same 😑",
        "it's not just you",
        "+1, same for me",
        "yep, same here",
        "me too",
        "same, reported it on the widget",
        "it's not just you!!",
        "omg same",
    ]
    aside = ["tried it on a different browser and it worked"]
    posts = [
        AnalysedPost(
            mention_id=n,
            created_at=START + timedelta(minutes=n),
            author_key=f"p{n}",
            author=f"p{n}",
            text=text,
            service_ids=("vle",),
            complaint=True,
            sentiment=-1.0,
            spam=False,
        )
        for n, text in enumerate([*describing, *agreeing, *aside])
    ]
    encoder = default_embedder()  # the analysis app's sentence encoder, as detection explains with
    assert encoder is not None
    explained = explain(
        service_name="Moodle", incident_posts=posts, baseline_posts=[], started_at=START, embedder=encoder
    )
    assert explained["affected_authors"] == len(posts)  # agreeing still counts as complaining
    representatives = explained["representatives"]
    assert len(representatives) >= 2 and set(representatives) <= set(describing)
    assert any("printer" in r for r in representatives)
    # The odd one out is a group of its own, which stands for no one; the choice is the same every time.
    chosen = representative_posts([*describing, *aside], embedder=encoder)
    assert set(chosen) <= set(describing)
    assert chosen == representative_posts([*describing, *aside], embedder=encoder)
    # Words alone (no encoder) choose as well.
    assert set(
        explain(service_name="Moodle", incident_posts=posts, baseline_posts=[], started_at=START)[
            "representatives"
        ]
    ) <= set(describing)


def test_shared_term_is_an_unusual_word_several_people_use() -> None:
    ordinary = [
        (("wifi",), "wifi slow in the library again"),
        (("wifi",), "eduroam keeps dropping, so slow"),
        (("vpn",), "vpn will not connect from home"),
        (("vle",), "moodle is slow this afternoon"),
    ] * 100
    printing = [
        (("printing",), "the printer ate my dissertation"),
        (("printing",), "printer says offline"),
        (("printing",), "printer out of toner"),
    ] * 5
    hopkins = [
        ("a", "eduroam in Hopkins Building is so slow"),
        ("b", "anyone else's wi-fi in hopkins dropping?"),
        ("c", "Hopkins = no wifi zone today"),
        ("d", "wifi slow in the library"),
    ]
    ignore = {"wifi", "wi-fi", "eduroam"}

    def found(complaints, usual=ordinary, service="wifi", ignore=ignore):  # type: ignore[no-untyped-def]
        return shared_term(
            complaints, usual=usual_words(usual), service_id=service, min_authors=3, ignore=ignore
        )

    assert found(hopkins) == (("hopkins",), 3)
    # Two people are not enough, nor one person three times.
    assert found(hopkins[1:]) is None
    assert found([("a", text) for _, text in hopkins]) is None
    # The service's own names, and words the usual complaints use ("slow"), are no corroboration.
    assert found([(a, "eduroam slow") for a in "abc"]) is None
    assert found([(a, "eduroam slow") for a in "abc"], ignore=set()) is None  # "eduroam" is in 1 in 4
    # A word rare across the organisation but everyday for this service (printing's "printer") is neither.
    jams = [(a, "printer offline in Carver Hall") for a in "abc"]
    assert found(jams, usual=ordinary + printing, service="printing") == (("carver", "hall"), 3)
    assert (
        found([(a, "printer offline") for a in "abc"], usual=ordinary + printing, service="printing") is None
    )
    # Without enough usual complaints to know what is rare, nothing is.
    assert found(hopkins, usual=ordinary[:19]) is None


def test_shared_term_needs_several_usual_complaints_to_call_a_word_usual_for_the_service() -> None:
    """A quiet service's fortnight holds a handful of complaints: one of them naming the Hopkins Building is a
    fifth of them, yet it does not make the building usual. Three of them naming it do."""
    elsewhere = [
        (("vle",), "moodle is slow this afternoon"),
        (("vpn",), "vpn will not connect from home"),
    ] * 50
    quiet = [(("wifi",), "wifi slow in the library"), (("wifi",), "eduroam asks for my password again")] * 2
    once = [(("wifi",), "wifi gone in the hopkins building")]
    now = [("a", "eduroam dead in Hopkins Building"), ("b", "hopkins wifi gone"), ("c", "no wifi, hopkins")]

    def found(usual):  # type: ignore[no-untyped-def]
        return shared_term(now, usual=usual_words(usual), service_id="wifi", min_authors=3, ignore={"wifi"})

    assert found(elsewhere + quiet + once) == (("hopkins",), 3)
    assert found(elsewhere + quiet + once * 3) is None  # 3 of 7 of the service's complaints name it


def test_shared_term_gives_the_words_the_same_people_wrote_in_their_order() -> None:
    usual = [(("vle",), "moodle is slow this afternoon"), (("wifi",), "wifi slow in the library")] * 30
    now = [
        ("a", "no signal in the Hopkins Building since nine"),
        ("b", "hopkins building wifi is dead"),
        ("c", "is anyone else in hopkins building offline?"),
        ("d", "offline in the hopkins lab"),
    ]
    found = shared_term(now, usual=usual_words(usual), service_id="wifi", min_authors=3, ignore={"wifi"})
    assert found == (("hopkins",), 4)  # "building" is a word of three of the four people, not all four
    found = shared_term(now[:3], usual=usual_words(usual), service_id="wifi", min_authors=3, ignore={"wifi"})
    assert found == (("hopkins", "building"), 3)
    assert shared_words(found) == "3 people wrote “hopkins” and “building”"
    assert shared_words((("error", "code", "e404"), 5)) == "5 people wrote “error”, “code” and “e404”"


def test_corroboration_reads_the_posts_about_this_service_first() -> None:
    """During the student e-mail outage, three people write "Student e-mail — can't sign in": tagged e-mail
    first and single sign-on second. Their words tell what is wrong with e-mail; they do not confirm a rise of
    sign-on complaints. Three posts about sign-on first naming the same page do."""
    end = START + timedelta(days=20)
    usual = [(("vle",), "moodle is slow this afternoon"), (("sso",), "sso loops back to the login page")] * 30

    def post(n: int, text: str, services: tuple[str, ...]) -> AnalysedPost:
        return AnalysedPost(
            mention_id=n,
            created_at=end - timedelta(minutes=10 + n),
            author_key=f"p{n}",
            author=f"p{n}",
            text=text,
            service_ids=services,
            complaint=True,
            sentiment=-1.0,
            spam=False,
        )

    def corroborated(posts: list[AnalysedPost]) -> str:
        return corroborator(
            service_id="sso",
            own_words={"sso", "single", "sign-on"},
            end=end,
            size=timedelta(minutes=15),
            min_authors=3,
            read=lambda *, since, until, service_ids=None: [
                p for p in posts if since <= p.created_at < until
            ],
            usual=lambda day: usual_words(usual),
        )(2)

    about_email = [
        post(n, "Student e-mail: can't sign in to outlook", ("student-email", "sso")) for n in range(3)
    ]
    assert corroborated(about_email) == ""
    about_sso = [
        post(n, "the password reset form says AADSTS50076", ("sso", "student-email")) for n in range(3)
    ]
    assert corroborated(about_sso) == "3 people wrote “password”, “reset” and “form”"


def test_rising_terms_of_complaints_in_chinese() -> None:
    """Each Chinese post was one "word" (written without spaces), so an outage discussed in Chinese rose on
    no term at all; its character pairs carry the words."""
    outage = ["邮箱登录不了", "邮箱又登录不了了，急", "学校邮箱登录失败", "邮箱打不开"]  # noqa: RUF001 - other scripts on purpose
    calm = ["图书馆几点关门", "课表在哪里看", "打印机怎么用"] * 5
    terms = [t["term"] for t in rising_terms(outage, calm)]
    assert terms[:2] == ["邮箱", "登录"]  # "mailbox", "log in"


def test_detection_reads_the_analysis_app_and_waits_for_unanalysed_posts() -> None:
    """Through the real analysis storage: posts analysed as complaints about a service feed its detector;
    a post received but not analysed yet holds detection back at its bucket."""
    service = ServiceFactory(id="printing", name="Printing")
    source = SourceFactory()
    now = START + timedelta(days=3)
    for i in range(40):
        mention = MentionFactory(
            source=source,
            external_id=f"a{i}",
            author=f"u{i}",
            author_id="",
            created_at=START + timedelta(hours=i),
        )
        analysis_save(
            mention=mention,
            complaint=True,
            complaint_score=0.9,
            sentiment="negative",
            sentiment_score=0.8,
            spam=False,
            spam_score=0.01,
            services=[(service.pk, 0.9)],
        )
    late = MentionFactory(source=source, external_id="late", created_at=START + timedelta(days=2))
    services.run_detection(now=now, since=START)
    snapshot = DetectorSnapshot.objects.get(service_id=service.pk)
    assert snapshot.last_bucket == START + timedelta(days=2, minutes=-15)  # waits for the late post
    assert snapshot.state["n"] == 2 * 96
    analysis_save(
        mention=late,
        complaint=False,
        complaint_score=0.1,
        sentiment="neutral",
        sentiment_score=0.5,
        spam=False,
        spam_score=0.01,
        services=[(service.pk, 0.9)],
    )
    services.run_detection(now=now)
    snapshot.refresh_from_db()
    assert snapshot.last_bucket == now - timedelta(minutes=15)
    complaints = [p for p in analysed_posts(since=START, until=now, service_ids=[service.pk]) if p.complaint]
    assert len(complaints) == 40


def test_detection_does_not_wait_for_peers_posts() -> None:
    """Peers' posts (the learning digest's) are never analysed: each one received held detection back at its
    bucket for an hour, so a peer feed synced every few minutes kept every service's detection an hour (or,
    for a feed's older items, days) behind."""
    service = ServiceFactory(id="printing", name="Printing")
    peers = SourceFactory(name="peer blogs", audience=Audience.PEERS)
    now = START + timedelta(days=3)
    MentionFactory(source=peers, external_id="p1", created_at=START + timedelta(days=1))
    services.run_detection(now=now, since=START)
    snapshot = DetectorSnapshot.objects.get(service_id=service.pk)
    assert snapshot.last_bucket == now - timedelta(minutes=15)


@pytest.mark.parametrize(
    "named", ["by-complaints", "also-by-a-negative-post", "also-by-a-neutral-post", "not"]
)
def test_people_naming_one_building_confirm_a_possible_problem(named: str) -> None:
    """Through the analysis app: a quiet Wi-Fi service (a complaint every two hours or so, about anything) gets
    five complaints from five people within an hour. On their count that is a possible problem; when four of
    them name the same building, which the usual complaints hardly ever do, it is confirmed at once, and the
    timeline says why. A negative post the classifier did not take for a complaint ("hopkins building = no
    wifi zone today") is read too: with two complaints naming the building, it makes the third person. A
    neutral one is not."""
    service = ServiceFactory(id="wifi", name="Wi-Fi", aliases=["eduroam", "wifi"])
    source = SourceFactory()
    usual = ["wifi slow in the library", "eduroam keeps asking for my password", "wifi down in my room"]
    for i in range(4 * 12):
        mention = MentionFactory(
            source=source,
            external_id=f"u{i}",
            text=usual[i % 3],
            author=f"usual{i}",
            author_id="",
            created_at=START + timedelta(hours=2 * i, minutes=7),
        )
        analysed(mention, services=[(service.pk, 0.9)])
    onset = START + timedelta(days=4, hours=10)
    said = {
        "by-complaints": [
            "eduroam dead in Hopkins Building",
            "hopkins wifi gone",
            "no wifi floor 2 hopkins",
            "hopkins?",
        ],
        "not": ["eduroam dead", "wifi gone again", "no wifi for me", "is the wifi ok"],
    }.get(
        named, ["eduroam dead in Hopkins Building", "hopkins wifi gone", "no wifi for me", "is the wifi ok"]
    )
    for j, text in enumerate([*said, "wifi slow in the library"]):
        mention = MentionFactory(
            source=source,
            external_id=f"o{j}",
            text=text,
            author=f"student{j}",
            author_id="",
            created_at=onset + timedelta(minutes=10 * j),
        )
        analysed(mention, services=[(service.pk, 0.9)])
    if named.startswith("also"):
        mention = MentionFactory(
            source=source,
            external_id="not-a-complaint",
            text="hopkins = no wifi zone today apparently",
            author="student9",
            author_id="",
            created_at=onset + timedelta(minutes=2),
        )
        sentiment = "negative" if named == "also-by-a-negative-post" else "neutral"
        analysed(mention, services=[(service.pk, 0.9)], complaint=False, sentiment=sentiment)
    services.run_detection(now=onset + timedelta(hours=1), since=START)
    incident = Incident.objects.get(kind=IncidentKind.DETECTED)
    if named in ("by-complaints", "also-by-a-negative-post"):
        assert incident.state == IncidentState.CONFIRMED
        confirmed = incident.activities.get(state=IncidentState.CONFIRMED)
        people = 4 if named == "by-complaints" else 3
        assert confirmed.comment.startswith(
            f"confirmed: {people} people wrote “hopkins”, rare in the usual complaints"
        )
        assert onset < confirmed.at <= onset + timedelta(hours=1)
    else:
        assert incident.state == IncidentState.POSSIBLE


def test_backfill_resumes_from_its_start_once_posts_are_analysed() -> None:
    service = ServiceFactory(id="sso", name="Single sign-on")
    early = MentionFactory(source=SourceFactory(), external_id="e", created_at=START + timedelta(hours=1))
    now = START + timedelta(days=20)
    services.detection_backfill(since=START, until=now)
    snapshot = DetectorSnapshot.objects.get(service_id=service.pk)
    assert snapshot.last_bucket == START + timedelta(minutes=45)  # up to the post awaiting analysis
    analysis_save(
        mention=early,
        complaint=True,
        complaint_score=0.9,
        sentiment="negative",
        sentiment_score=0.9,
        spam=False,
        spam_score=0.0,
        services=[(service.pk, 0.8)],
    )
    services.run_detection(now=now)
    snapshot.refresh_from_db()
    assert snapshot.state["n"] == 20 * 96  # all twenty days, not just the last fortnight


def test_an_incident_opened_from_an_earlier_start_gathers_the_complaints_since() -> None:
    service, other = ServiceFactory(id="email", name="Student e-mail"), ServiceFactory(id="vpn", name="VPN")
    source = SourceFactory()
    now = START + timedelta(hours=10)

    def post(minutes: int, author: str, *, complaint: bool = True, service_id: str = "email") -> Mention:
        mention = MentionFactory(
            source=source, author=author, author_id="", created_at=now - timedelta(minutes=minutes)
        )
        analysed(mention, complaint=complaint, services=[(service_id, 0.9)])
        return mention

    since = [post(100, "ana"), post(80, "ben"), post(60, "ana")]
    post(200, "cy")  # before the start
    post(50, "dee", complaint=False)  # not a complaint
    post(40, "eve", service_id=other.pk)  # about another service
    incident = services.incident_create(
        service_id=service.pk, title="Outlook down", started_at=now - timedelta(hours=2), at=now
    )
    assert set(selectors.detected_incident_mention_ids(incident_id=incident.pk)) == {m.pk for m in since}
    incident.refresh_from_db()
    assert incident.affected_authors == 2


def test_maintenance_is_completed_when_its_planned_window_ends() -> None:
    service = ServiceFactory(id="printing", name="Printing")
    ended = services.maintenance_schedule(
        service_id=service.pk, title="Printer firmware", start=START, end=START + timedelta(hours=2)
    )
    later = services.maintenance_schedule(
        service_id=service.pk, title="Print queue move", start=START, end=START + timedelta(hours=5)
    )
    assert services.maintenance_complete_due(now=START + timedelta(hours=3)) == [ended.pk]
    ended.refresh_from_db()
    later.refresh_from_db()
    assert ended.state == IncidentState.RESOLVED and ended.resolved_at == START + timedelta(hours=2)
    assert (
        ended.activities.get(type=ActivityType.STATE_CHANGED).comment == "completed: the planned window ended"
    )
    assert later.is_open
    assert list(selectors.incident_list(state="open")) == [later]
    # Maintenance planned for next week is scheduled, not open: "Open" lists what is happening now.
    upcoming = services.maintenance_schedule(
        service_id=service.pk,
        title="Next week's upgrade",
        start=timezone.now() + timedelta(days=7),
        end=timezone.now() + timedelta(days=7, hours=2),
    )
    assert upcoming not in selectors.incident_list(state="open")
    assert list(selectors.incident_list(state="scheduled")) == [upcoming]
    assert upcoming in selectors.open_incidents_by_service(service_ids=[service.pk])[service.pk]
    assert services.maintenance_complete_due(now=START + timedelta(hours=3)) == []  # once


def test_a_service_added_today_learns_before_it_can_raise_an_incident() -> None:
    """A new service's detector starts when the service (or its oldest post) does, not a fortnight of empty
    buckets earlier: those would end its 48 hours of learning at once, and its first complaints would open an
    incident (docs/detection.md: 'the first 48 hours of a service are for learning only')."""
    service = ServiceFactory(id="labs", name="Lab PCs")
    added = service.created_at
    posts = Posts()
    source = SourceFactory()
    for minutes, author in ((65, "ana"), (70, "ben"), (75, "cy"), (80, "dee")):
        mention = MentionFactory(
            source=source, author=author, author_id="", created_at=added + timedelta(minutes=minutes)
        )
        posts.add(mention, service.pk)

    summary = services.run_detection(now=added + timedelta(hours=2), reader=posts)

    assert summary.opened == [] and not Incident.objects.exists()
    snapshot = DetectorSnapshot.objects.get(service_id=service.pk)
    assert snapshot.state["state"] == "learning" and snapshot.state["n"] <= 9  # two hours of buckets


def test_an_incident_reopened_by_hand_stays_open_and_gathers_complaints(
    campus: tuple[Posts, str, datetime],
) -> None:
    posts, _service_id, onset = campus
    services.run_detection(now=onset + timedelta(hours=6), since=START, reader=posts)
    incident = Incident.objects.get(kind=IncidentKind.DETECTED)
    assert incident.state == IncidentState.RESOLVED
    attached = incident.attachments.count()
    # Users still cannot upload: a responder reopens it. The detector is calm again, and its next ordinary
    # complaint closed it once more ("the rise faded before it was confirmed") within minutes.
    services.incident_update_status(
        incident=incident, state=IncidentState.CONFIRMED, comment="users still cannot upload"
    )
    services.run_detection(now=onset + timedelta(hours=20), reader=posts)
    incident.refresh_from_db()
    assert incident.state == IncidentState.CONFIRMED
    # Confirmed, resolved, reopened: nothing after.
    assert incident.activities.filter(type=ActivityType.STATE_CHANGED).count() == 3
    assert incident.attachments.count() > attached  # the complaints since are "me too" on it


def test_a_rise_confirmed_by_hand_is_not_said_to_have_faded_unconfirmed(
    campus: tuple[Posts, str, datetime],
) -> None:
    posts, _service_id, onset = campus
    outage = {m.pk for m in Mention.objects.filter(external_id__startswith="o")}
    # Only the outage's first quarter of an hour: a possible problem that fades. Its posts say nothing in
    # common but what the usual complaints say (the same unusual words, "502", would confirm it at once).
    first = {m.pk for m in Mention.objects.filter(external_id__in=[f"o{j}" for j in range(5)])}
    posts.posts = [
        replace(p, text=CALM_TEXTS[p.mention_id % len(CALM_TEXTS)]) if p.mention_id in first else p
        for p in posts.posts
        if p.mention_id not in outage or p.mention_id in first
    ]
    services.run_detection(now=onset + timedelta(minutes=30), since=START, reader=posts)
    incident = Incident.objects.get(kind=IncidentKind.DETECTED)
    assert incident.state == IncidentState.POSSIBLE
    services.incident_update_status(incident=incident, state=IncidentState.CONFIRMED, comment="desk confirms")
    services.run_detection(now=onset + timedelta(hours=6), reader=posts)
    incident.refresh_from_db()
    assert incident.state == IncidentState.RESOLVED
    resolved = incident.activities.get(state=IncidentState.RESOLVED)
    assert resolved.comment == "complaints back to the usual level"


def test_the_usual_rate_of_a_quiet_service_is_said_in_words_not_as_zero() -> None:
    """A quiet service's explanation read "where about 0.0 an hour is usual for this time"."""
    from servicepulse.incidents.explain import explain

    started = datetime(2026, 11, 28, 4, 0, tzinfo=UTC)
    posts = [
        AnalysedPost(
            mention_id=i,
            created_at=started + timedelta(minutes=i),
            author_key=f"1:{i}",
            author=f"person{i}",
            text="eduroam down in Hopkins",
            service_ids=("wifi",),
            complaint=True,
            sentiment=-0.6,
            spam=False,
        )
        for i in range(4)
    ]

    def summary(per_hour: float) -> str:
        return explain(
            service_name="Wi-Fi",
            incident_posts=posts,
            baseline_posts=[],
            started_at=started,
            expected_per_hour=per_hour,
        )["summary"]

    assert "where about one every 2 days is usual for this time" in summary(0.02)
    assert "where about one every 3 hours is usual" in summary(0.3)
    assert "where about 1.5 an hour is usual" in summary(1.5)
    assert "where less than one a week is usual" in summary(0.001)
    assert "0.0" not in summary(0.001)


def test_the_daily_rhythm_is_learnt_in_the_organisations_time_zone_across_the_clock_change(settings) -> None:  # type: ignore[no-untyped-def]
    """Complaints come at 09:00 local every day. Fed in UTC, the detector's busy hour moved an hour when the
    clocks went back (08:00 UTC in summer, 09:00 after), so for a week it expected them an hour early; and
    fed in local time, the hour after the clocks went back read as earlier than the one before it."""
    from servicepulse.dashboard.selectors import detectors_for

    settings.TIME_ZONE = "Europe/London"
    service = ServiceFactory(id="printing", name="Printing")
    source = SourceFactory()
    posts = Posts()
    london = timezone.get_default_timezone()
    first = datetime(2025, 10, 6, tzinfo=london)
    for day in range(23):  # the clocks go back on Sunday 26 October 2025, day 20
        for k in range(3):
            at = datetime.combine(first.date() + timedelta(days=day), datetime.min.time(), london)
            mention = MentionFactory(
                source=source, external_id=f"d{day}k{k}", author=f"person{k}", author_id="",
                created_at=at + timedelta(hours=9, minutes=10 * k),
            )  # fmt: skip
            posts.add(mention, service.pk)
    end = datetime(2025, 10, 29, tzinfo=london)
    services.run_detection(now=end, since=first, reader=posts)  # across the change: no "time order" error
    detector = detectors_for(service_ids=[service.pk])[service.pk]
    day_after = datetime(2025, 10, 28, tzinfo=london)
    nine, eight = day_after + timedelta(hours=9, minutes=15), day_after + timedelta(hours=8, minutes=15)
    assert detector.expected(nine) > 2 * detector.expected(eight)  # fed in UTC: a fifth of it


def test_rising_terms_of_complaints_in_welsh_are_what_is_wrong() -> None:
    """ "ddim" (not) and "mae'r" rose with every Welsh outage, as "not" and "the" would have in English."""
    outage = [
        "Mae'r e-bost ddim yn gweithio, methu mewngofnodi",
        "Dydy'r e-bost ddim yn llwytho o gwbl",
        "Mae'r e-bost i lawr eto, ddim yn gallu mewngofnodi",
    ]
    calm = ["the library closes at ten", "where is my timetable", "how do I print in colour"] * 5
    terms = [t["term"] for t in rising_terms(outage, calm)]
    assert terms[0] == "e-bost"
    assert "mewngofnodi" in terms  # log in
    assert not {"mae'r", "ddim", "dydy'r", "gallu", "methu"} & set(terms)
