"""The issue's story end to end: a confirmed VLE incident is published to /status/ in one click, the
component's subscriber gets the e-mail (real SMTP on 127.0.0.1), every attached complainant gets one
previewed reply through the connector's client (slack_sdk against a loopback replay server), the inbox shows
response times, and the status page, feed, JSON and badge work signed out."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from servicepulse.engage.models import LoopReply
from servicepulse.incidents.models import IncidentKind, IncidentState
from servicepulse.incidents.services import incident_attach_mentions, incident_create
from servicepulse.sources.models import SourceKind
from servicepulse.status.models import PublicIncident
from tests.engage.helpers import point_at, slack_fixture, slack_params, slack_source
from tests.factories import MentionFactory, ServiceFactory, SourceFactory
from tests.mailsink import body_of
from tests.replay import ReplayServer
from tests.replay import Reply as Answer

pytestmark = pytest.mark.django_db


def test_vle_incident_from_detection_to_everyone_told(
    client, users, smtp, immediate_tasks, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    ServiceFactory(id="vle", name="Moodle VLE", team="Digital Learning")
    onset = timezone.now() - timedelta(minutes=50)
    slack = slack_source()
    rss = SourceFactory(kind=SourceKind.RSS, name="IT news comments")
    posts = [
        MentionFactory(
            source=slack,
            external_id="C024BE91L:1795470100.000200",
            author="ana",
            author_id="U1",
            created_at=onset,
        ),
        MentionFactory(
            source=slack,
            external_id="C024BE91L:1795470300.000400",
            author="ben",
            author_id="U2",
            created_at=onset + timedelta(minutes=3),
        ),
        MentionFactory(
            source=slack,
            external_id="C024BE91L:1795470400.000500",
            author="ben",
            author_id="U2",
            created_at=onset + timedelta(minutes=9),
        ),
        MentionFactory(source=rss, external_id="c-1", author="dee", created_at=onset + timedelta(minutes=5)),
    ]
    detected = incident_create(
        service_id="vle",
        title="Moodle VLE: complaints rising",
        started_at=onset,
        kind=IncidentKind.DETECTED,
        state=IncidentState.CONFIRMED,
        explanation={"terms": [{"term": "upload", "ratio": 8.0, "posts": 3}], "affected_authors": 3},
    )
    incident_attach_mentions(incident=detected, posts=[(p.pk, p.author_key) for p in posts])

    # A student rep subscribes to the VLE component (double opt-in).
    public = Client()
    public.post("/status/subscribe/", {"email": "rep@example.ac.uk", "components": ["vle"]})
    confirm = re.search(
        r"http://testserver(/status/subscribe/confirm/\S+/)", body_of(smtp.wait_for(1)[0])
    ).group(1)
    public.post(confirm)
    smtp.clear()

    # The responder reviews the drafted post, then publishes it; the subscriber hears about it.
    client.force_login(users["responder"])
    review = client.get(f"/status/manage/from-incident/{detected.pk}/").content.decode()
    assert "Moodle VLE: problems reported" in review and PublicIncident.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/status/manage/from-incident/{detected.pk}/")
    incident = PublicIncident.objects.get()
    mail = smtp.wait_for(1)[0]
    assert mail["To"] == "rep@example.ac.uk" and "Moodle VLE" in mail["Subject"]
    assert "List-Unsubscribe" in mail and "“upload”" in body_of(mail)

    # Signed out, the world sees it.
    assert b"Moodle VLE: problems reported" in public.get("/status/").content
    assert b"Moodle VLE: problems reported" in public.get("/status/feed/").content
    assert public.get("/status/summary.json").json()["components"][0]["status"] == "degraded"
    assert b"degraded performance" in public.get("/status/badge/vle.svg").content

    # Preview, then one reply per person on their own channel; the RSS reader is listed.
    routes = {
        ("POST", "/api/chat.postMessage"): [Answer(200, body=slack_fixture("chat_postMessage_ok.json"))]
    }
    with ReplayServer(routes) as server:
        point_at(slack, server.url)
        preview = client.get(f"/inbox/loop/{incident.pk}/").content.decode()
        assert "Will get a reply (2)" in preview and "Will not get a reply (1)" in preview
        template = "Hi {author}, we know {service} is failing and are on it: {status_url}"
        with django_capture_on_commit_callbacks(execute=True):
            client.post(f"/inbox/loop/{incident.pk}/", {"template": template, "confirm": "send"})
        texts = sorted(slack_params(r)["text"] for r in server.requests)
    assert texts == [
        f"Hi {name}, we know Moodle VLE is failing and are on it: http://testserver/status/incidents/{incident.pk}/"
        for name in ("ana", "ben")
    ]
    assert dict(LoopReply.objects.values_list("mention__author", "outcome")) == {
        "ana": "sent",
        "ben": "sent",
        "dee": "cannot_reply",
    }

    # The inbox shows how fast people were answered, per service.
    times = client.get("/inbox/times/").content.decode()
    assert "Moodle VLE" in times and "<td>2</td>" in times
