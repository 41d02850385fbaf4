"""The closed loop: after a preview, one reply per person per public-incident status, on their own channel
(slack_sdk against a loopback replay server), with the opted-out and cannot-reply people listed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.db import IntegrityError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from servicepulse.engage.models import LoopReply, ReplyOutcome
from servicepulse.engage.services import (
    case_link_public_incident,
    case_open,
    loop_deliver,
    loop_preview,
    loop_send,
    loop_send_key,
    optout_add,
)
from servicepulse.sources.models import Source, SourceKind
from servicepulse.sources.services import source_create
from servicepulse.status.models import Impact, IncidentStatus
from servicepulse.status.services import public_incident_open, public_incident_update
from tests.engage.helpers import point_at, slack_fixture, slack_params, slack_source
from tests.factories import MentionFactory, ServiceFactory, SourceFactory
from tests.replay import ReplayServer
from tests.replay import Reply as Answer

pytestmark = pytest.mark.django_db
OK = {("POST", "/api/chat.postMessage"): [Answer(200, body=slack_fixture("chat_postMessage_ok.json"))]}
MASTODON_FIXTURES = Path(__file__).resolve().parents[2] / "servicepulse/sources/connectors/mastodon/fixtures"
# One loopback server plays both platforms: Slack's Web API and a Mastodon server (Mastodon.py reads the
# instance document for the API version, then posts the status).
BOTH = {
    **OK,
    ("GET", "/api/v2/instance/"): [Answer(200, body=(MASTODON_FIXTURES / "instance_v2.json").read_bytes())],
    ("POST", "/api/v1/statuses"): [
        Answer(200, body=(MASTODON_FIXTURES / "status_post_reply.json").read_bytes())
    ],
}


def slack_posts(server: ReplayServer) -> list:  # type: ignore[type-arg]
    return [r for r in server.requests if r.path == "/api/chat.postMessage"]


def mastodon_posts(server: ReplayServer) -> list:  # type: ignore[type-arg]
    return [r for r in server.requests if r.path == "/api/v1/statuses"]


def point_everything_at(url: str) -> None:
    point_at(Source.objects.get(kind="slack"), url)
    masto = Source.objects.get(kind="mastodon")
    masto.options["api_base_url"] = url
    masto.save()


@pytest.fixture
def incident(settings):  # type: ignore[no-untyped-def]
    settings.BASE_URL = "https://it.northgate.ac.uk"
    ServiceFactory(id="sso", name="Single sign-on")
    incident = public_incident_open(
        title="Sign-in loops back to the login page",
        service_ids=["sso"],
        impact=Impact.MAJOR_OUTAGE,
        body="Looking.",
    )
    slack = slack_source()
    rss = SourceFactory(kind=SourceKind.RSS, name="IT news comments")
    masto = source_create(
        kind="mastodon",
        name="campus-mastodon",
        options={"api_base_url": "http://127.0.0.1:1", "access_token": "tok"},
    )
    mentions = [
        MentionFactory(source=slack, external_id="C024BE91L:1795470100.000200", author="ana", author_id="U1"),
        MentionFactory(source=slack, external_id="C024BE91L:1795470200.000300", author="ana", author_id="U1"),
        MentionFactory(source=slack, external_id="C024BE91L:1795470300.000400", author="ben", author_id="U2"),
        MentionFactory(source=slack, external_id="C024BE91L:1795470400.000500", author="cy", author_id="U3"),
        MentionFactory(source=rss, external_id="comment-9", author="dee"),
        MentionFactory(
            source=masto,
            external_id="113500000000000201",
            author="eli",
            author_id="1090",
            raw={"account": {"acct": "eli@mastodon.example"}},
        ),
    ]
    for mention in mentions:
        case_link_public_incident(case=case_open(mention=mention), incident=incident)
    optout_add(mention=mentions[3], reason="asked us to stop")
    return incident


def test_preview_lists_everyone_once_with_reasons(incident) -> None:  # type: ignore[no-untyped-def]
    preview = loop_preview(incident=incident)
    assert sorted(r.mention.author for r in preview.to_send) == ["ana", "ben", "eli"]
    ana = next(r for r in preview.to_send if r.mention.author == "ana")
    assert ana.mention.external_id == "C024BE91L:1795470200.000300"  # the latest post of the person
    assert ana.text == (
        "Hi ana, thanks for telling us about the problem with Single sign-on. We are investigating; "
        f"updates here: https://it.northgate.ac.uk/status/incidents/{incident.pk}/"
    )
    listed = {r.mention.author: (r.outcome, r.reason) for r in preview.not_sendable}
    assert listed["cy"][0] == ReplyOutcome.OPTED_OUT
    assert (
        listed["dee"][0] == ReplyOutcome.CANNOT_REPLY
        and "RSS/Atom feed has no way to post a reply" in listed["dee"][1]
    )
    assert LoopReply.objects.count() == 0  # a preview writes nothing


def test_an_anonymous_widget_report_is_not_to_be_answered_another_way(incident) -> None:  # type: ignore[no-untyped-def]
    """A reporter who did not sign in to the widget left no name and no channel: "answer this person another
    way" sent the officer looking for someone nobody can reach."""
    widget = SourceFactory(kind=SourceKind.WIDGET, name="Report a problem")
    for author, external_id in (("", "r1"), ("jo.bloggs", "r2")):  # anonymous, and signed in through SSO
        mention = MentionFactory(
            source=widget, external_id=external_id, author=author, author_id=f"p-{external_id}"
        )
        case_link_public_incident(case=case_open(mention=mention), incident=incident)
    reasons = {r.mention.author: r.reason for r in loop_preview(incident=incident).not_sendable}
    assert (
        reasons[""]
        == "an anonymous report through the widget: there is nobody to answer; the status page tells them"
    )
    assert reasons["jo.bloggs"].endswith(": answer this person another way")


def test_send_once_per_person_per_state(
    client, users, incident, immediate_tasks, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(users["responder"])
    inbox = client.get("/inbox/").content.decode()
    assert "Tell the people who reported it" in inbox and "3 people to reply to" in inbox
    page = client.get(f"/inbox/loop/{incident.pk}/").content.decode()
    assert "Will get a reply (3)" in page and "Will not get a reply (2)" in page
    with ReplayServer(BOTH) as server:
        point_everything_at(server.url)
        template = "Hi {author}: we are on it. {status_url}"
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"/inbox/loop/{incident.pk}/", {"template": template, "confirm": "send"})
        assert response.status_code == 302
        assert len(slack_posts(server)) == 2 and len(mastodon_posts(server)) == 1
        sent = sorted(slack_params(r)["text"] for r in slack_posts(server))
        assert sent[0].startswith("Hi ana: we are on it. https://it.northgate.ac.uk/status/incidents/")
        threads = {slack_params(r)["thread_ts"] for r in slack_posts(server)}
        assert threads == {"1795470200.000300", "1795470300.000400"}
        toot = mastodon_posts(server)[0].form()
        assert toot["in_reply_to_id"] == ["113500000000000201"]
        assert toot["status"][0].startswith("@eli@mastodon.example Hi eli: we are on it.")

        # Sending again for the same status reaches nobody twice.
        with django_capture_on_commit_callbacks(execute=True):
            client.post(f"/inbox/loop/{incident.pk}/", {"template": template, "confirm": "send"})
        assert len(slack_posts(server)) == 2 and len(mastodon_posts(server)) == 1

        assert "Tell the people who reported it" not in client.get("/inbox/").content.decode()
        outcomes = dict(LoopReply.objects.values_list("mention__author", "outcome"))
        assert outcomes == {
            "ana": "sent",
            "ben": "sent",
            "cy": "opted_out",
            "dee": "cannot_reply",
            "eli": "sent",
        }
        log = client.get(f"/inbox/loop/{incident.pk}/").content.decode()
        assert "Opted out" in log and "Channel cannot reply" in log

        public_incident_update(incident=incident, status=IncidentStatus.RESOLVED, body="Fixed.")
        incident.refresh_from_db()
        preview = loop_preview(incident=incident)
        assert len(preview.to_send) == 3 and "is resolved" in preview.to_send[0].text
        with django_capture_on_commit_callbacks(execute=True):
            result = loop_send(incident=incident, actor=users["responder"])
        assert (result.queued, result.listed) == (3, 2)
        assert len(slack_posts(server)) == 4 and len(mastodon_posts(server)) == 2
    per_state = LoopReply.objects.filter(outcome=ReplyOutcome.SENT).values_list("incident_status", flat=True)
    assert sorted(per_state) == ["investigating"] * 3 + ["resolved"] * 3


def test_unique_constraint_holds_at_the_database(incident) -> None:  # type: ignore[no-untyped-def]
    mention = incident.cases.first().mention
    fields = {
        "public_incident": incident,
        "incident_status": "investigating",
        "person_key": "x:U1",
        "mention": mention,
    }
    LoopReply.objects.create(text="one", **fields)
    with pytest.raises(IntegrityError):
        LoopReply.objects.create(text="two", **fields)


def test_platform_rate_limits_defer_the_rest(incident, settings, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    settings.SERVICEPULSE_REPLY_RATES = {"slack": [1, 3600]}  # one reply an hour on this workspace
    with django_capture_on_commit_callbacks(execute=True):
        loop_send(incident=incident, actor=None)
    with ReplayServer(BOTH) as server:
        point_everything_at(server.url)
        with django_capture_on_commit_callbacks(execute=True):
            result = loop_deliver(incident_id=incident.pk, incident_status="investigating")
    assert (result.sent, result.deferred) == (2, 1)  # Slack's second waits; Mastodon has its own limit
    assert len(slack_posts(server)) == 1 and len(mastodon_posts(server)) == 1
    assert timedelta(minutes=59) < result.retry_at - timezone.now() <= timedelta(hours=1)
    later = DBTaskResult.objects.filter(task_path__endswith="loop_deliver_task", run_after__isnull=False)
    assert later.exists()  # enqueued again for when the limit allows
    assert LoopReply.objects.filter(outcome=ReplyOutcome.PENDING).count() == 1


def test_each_reply_is_keyed_by_its_row_and_dated_by_its_first_try(incident, settings) -> None:  # type: ignore[no-untyped-def]
    """Every try of a closed-loop reply carries the same key, named after its row (Mastodon's Idempotency-Key), so
    a try after a timeout cannot post it twice; and the time in that key (a Bluesky record key's) is when the
    reply was first tried, not when it was queued: one waiting an hour behind a rate limit is dated then."""
    settings.SERVICEPULSE_REPLY_RATES = {"slack": [1, 3600]}
    loop_send(incident=incident, actor=None)
    queued = timezone.now()
    with ReplayServer(BOTH) as server:
        point_everything_at(server.url)
        loop_deliver(incident_id=incident.pk, incident_status="investigating", now=queued)
        waiting = LoopReply.objects.get(outcome=ReplyOutcome.PENDING)
        assert waiting.first_tried_at is None  # not tried: the workspace's limit held it back
        later = queued + timedelta(hours=1, minutes=1)
        loop_deliver(incident_id=incident.pk, incident_status="investigating", now=later)
        keys = [r.headers.get("Idempotency-Key") for r in mastodon_posts(server)]
    masto = LoopReply.objects.get(mention__source__kind="mastodon")
    assert keys == [f"servicepulse-loop-{masto.pk}"]
    waiting.refresh_from_db()
    assert waiting.outcome == ReplyOutcome.SENT and waiting.first_tried_at == later
    assert (
        loop_send_key(waiting).first_try == later and loop_send_key(masto).first_try == masto.first_tried_at
    )


def test_retry_after_from_the_platform_keeps_the_reply_pending(incident) -> None:  # type: ignore[no-untyped-def]
    loop_send(incident=incident, actor=None)
    limited = {
        ("POST", "/api/chat.postMessage"): [
            Answer(429, {"Retry-After": "30"}, slack_fixture("error_ratelimited.json")),
        ]
    }
    with ReplayServer({**BOTH, **limited}) as server:
        point_everything_at(server.url)
        result = loop_deliver(incident_id=incident.pk, incident_status="investigating")
    assert result.sent == 1 and result.deferred == 2  # Mastodon went out; Slack said wait
    assert len(slack_posts(server)) == 1  # the second person on the same workspace waits too
    row = LoopReply.objects.filter(attempts=1, mention__source__kind="slack").get()
    assert row.outcome == ReplyOutcome.PENDING and "rate limit" in row.error


@pytest.mark.parametrize("wait", ["1e20", "inf"])
def test_a_platform_asking_to_wait_for_ages_gets_the_reply_tried_again_within_a_day(incident, wait) -> None:  # type: ignore[no-untyped-def]
    """A Retry-After beyond what a date can hold raised OverflowError while the reply was being put off: the
    delivery stopped there and the reply stayed "sending". Every platform's wait is honoured up to a day."""
    loop_send(incident=incident, actor=None)
    limited = {
        ("POST", "/api/chat.postMessage"): [
            Answer(429, {"Retry-After": wait}, slack_fixture("error_ratelimited.json")),
        ]
    }
    with ReplayServer({**BOTH, **limited}) as server:
        point_everything_at(server.url)
        result = loop_deliver(incident_id=incident.pk, incident_status="investigating")
    assert result.sent == 1 and result.deferred == 2
    row = LoopReply.objects.filter(attempts=1, mention__source__kind="slack").get()
    assert row.outcome == ReplyOutcome.PENDING and "rate limit" in row.error


def test_a_source_without_credentials_is_listed_then_reached_once_it_has_them(
    client, users, incident, immediate_tasks, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    masto = Source.objects.get(kind="mastodon")
    masto.set_secrets({})  # the token was never entered
    masto.save()
    preview = loop_preview(incident=incident)
    assert sorted(r.mention.author for r in preview.to_send) == ["ana", "ben"]
    eli = next(r for r in preview.not_sendable if r.mention.author == "eli")
    assert eli.outcome == ReplyOutcome.CANNOT_REPLY and "no access_token set" in eli.reason
    with ReplayServer(BOTH) as server:
        point_everything_at(server.url)
        with django_capture_on_commit_callbacks(execute=True):
            result = loop_send(incident=incident, actor=users["responder"])
        assert (result.queued, result.listed) == (2, 3)
        assert len(slack_posts(server)) == 2 and mastodon_posts(server) == []  # no attempt without a token
        client.force_login(users["responder"])
        assert "Tell the people who reported it" not in client.get("/inbox/").content.decode()

        masto.refresh_from_db()
        masto.set_secrets({"access_token": "tok"})
        masto.save()
        assert "1 person to reply to" in client.get("/inbox/").content.decode()
        assert [r.mention.author for r in loop_preview(incident=incident).to_send] == ["eli"]
        with django_capture_on_commit_callbacks(execute=True):
            result = loop_send(incident=incident, actor=users["responder"])
        assert (result.queued, result.listed, result.already) == (1, 1, 3)  # dee: RSS still cannot
        assert len(slack_posts(server)) == 2 and len(mastodon_posts(server)) == 1
    assert LoopReply.objects.count() == 5  # eli's row was retried, not duplicated
    assert LoopReply.objects.get(mention__author="eli").outcome == ReplyOutcome.SENT


def test_a_reply_that_failed_on_the_platform_is_offered_again(
    incident, immediate_tasks, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    down = {("POST", "/api/chat.postMessage"): [Answer(500, body=b"{}")] * 6}
    with ReplayServer({**BOTH, **down}) as server:
        point_everything_at(server.url)
        loop_send(incident=incident, actor=None)
        for _ in range(
            6
        ):  # each attempt fails (a failure defers the rest of that workspace); the third is final
            loop_deliver(incident_id=incident.pk, incident_status="investigating")
    failed = LoopReply.objects.filter(outcome=ReplyOutcome.FAILED)
    assert sorted(failed.values_list("mention__author", flat=True)) == ["ana", "ben"]
    assert sorted(r.mention.author for r in loop_preview(incident=incident).to_send) == ["ana", "ben"]
    with ReplayServer(BOTH) as server:
        point_everything_at(server.url)
        with django_capture_on_commit_callbacks(execute=True):
            assert loop_send(incident=incident, actor=None).queued == 2
        assert len(slack_posts(server)) == 2
    assert LoopReply.objects.filter(outcome=ReplyOutcome.SENT).count() == 3


def test_the_responder_can_leave_people_out(
    client, users, incident, immediate_tasks, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    client.force_login(users["responder"])
    page = client.get(f"/inbox/loop/{incident.pk}/").content.decode()
    assert page.count('name="person"') == 3 and page.count(" checked>") == 3  # everyone ticked at first
    keys = {r.mention.author: r.person_key for r in loop_preview(incident=incident).to_send}
    form = {"template": "Hi {author}: fixed. {status_url}", "choosing": "1"}
    ticked = [keys["ana"], keys["eli"]]
    page = client.post(
        f"/inbox/loop/{incident.pk}/", {**form, "confirm": "preview", "person": ticked}
    ).content.decode()
    assert page.count(" checked>") == 2  # the preview keeps ben unticked
    with ReplayServer(BOTH) as server:
        point_everything_at(server.url)
        with django_capture_on_commit_callbacks(execute=True):
            client.post(f"/inbox/loop/{incident.pk}/", {**form, "confirm": "send", "person": ticked})
        assert len(slack_posts(server)) == 1 and len(mastodon_posts(server)) == 1
    assert not LoopReply.objects.filter(mention__author="ben").exists()
    assert [r.mention.author for r in loop_preview(incident=incident).to_send] == ["ben"]  # still reachable


def test_a_message_written_for_an_earlier_status_is_not_sent(
    client, users, incident, immediate_tasks, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    """The responder opens the closed loop while the incident is investigating; a colleague resolves it in
    another tab; pressing Send must not tell people "we are investigating" (and use up their one reply for
    "resolved"): nothing is sent, and the page offers the message for the new status."""
    client.force_login(users["responder"])
    page = client.get(f"/inbox/loop/{incident.pk}/")
    form = page.context["form"]
    written = {"template": form.initial["template"], "status": form.initial["status"], "confirm": "send"}
    assert written["status"] == IncidentStatus.INVESTIGATING
    public_incident_update(incident=incident, status=IncidentStatus.RESOLVED, body="Fixed.")
    with ReplayServer(BOTH) as server:
        point_everything_at(server.url)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"/inbox/loop/{incident.pk}/", written)
        assert not slack_posts(server) and not mastodon_posts(server)
    assert not LoopReply.objects.exists()
    page = response.content.decode()
    assert "moved from “Investigating” to “Resolved”" in page
    assert response.context["form"]["status"].value() == IncidentStatus.RESOLVED
    assert "is resolved. Thank you for telling us" in response.context["form"]["template"].value()
    assert all("is resolved" in r.text for r in response.context["preview"].to_send)


def test_posts_relabelled_away_from_the_detected_incident_get_no_reply(settings) -> None:
    """Detection attached three posts; an analyst then marked one spam and one "not a complaint". The
    incident no longer counts them, and the closed loop must not thank their authors "for telling us": only
    the genuine reporter, and a post a responder linked by hand whatever its labels, are offered a reply."""
    from servicepulse.analysis.services import analysis_save, correction_create
    from servicepulse.incidents.models import IncidentKind, IncidentState
    from servicepulse.incidents.services import incident_attach_mentions, incident_create
    from servicepulse.status.services import public_incident_from_detected

    settings.BASE_URL = "https://it.northgate.ac.uk"
    ServiceFactory(id="vle", name="Moodle VLE")
    detected = incident_create(
        service_id="vle",
        title="Moodle VLE: complaints rising",
        started_at=timezone.now() - timedelta(hours=1),
        kind=IncidentKind.DETECTED,
        state=IncidentState.CONFIRMED,
    )
    slack = slack_source()
    posts = {
        name: MentionFactory(source=slack, author=name, author_id=name.upper(), text=text)
        for name, text in [
            ("ana", "moodle will not load my quiz"),
            ("spammer", "cheap essays!! moodle help at essays.example"),
            ("fan", "moodle looks great today"),
        ]
    }
    for post in posts.values():
        analysis_save(
            mention=post,
            complaint=True,
            complaint_score=0.9,
            sentiment="negative",
            sentiment_score=-0.5,
            spam=False,
            spam_score=0.1,
            services=[("vle", 0.9)],
        )
    incident_attach_mentions(incident=detected, posts=[(p.pk, p.author_key) for p in posts.values()])
    correction_create(mention=posts["spammer"], field="spam", value=True)
    correction_create(mention=posts["fan"], field="complaint", value=False)
    public = public_incident_from_detected(incident_id=detected.pk)
    assert [r.mention.author for r in loop_preview(incident=public).recipients] == ["ana"]

    case_link_public_incident(case=case_open(mention=posts["fan"]), incident=public)  # a responder's choice
    assert sorted(r.mention.author for r in loop_preview(incident=public).recipients) == ["ana", "fan"]
