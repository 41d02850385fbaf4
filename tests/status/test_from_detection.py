"""From detection to status: a confirmed detected incident becomes a public incident in one click, with a
drafted first update; its attached complaints feed the closed loop; maintenance keeps detection quiet."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from freezegun import freeze_time

from servicepulse.core.times import local_time_text
from servicepulse.engage.services import loop_preview
from servicepulse.incidents.models import Incident, IncidentKind, IncidentState
from servicepulse.incidents.services import incident_attach_mentions, incident_create
from servicepulse.status.models import PublicIncident
from servicepulse.status.selectors import maintenance_active
from servicepulse.status.services import maintenance_cancel, maintenance_schedule
from tests.factories import MentionFactory, ServiceFactory

pytestmark = pytest.mark.django_db
ONSET = datetime(2026, 11, 20, 21, 5, tzinfo=UTC)
EXPLANATION = {
    "summary": "23 complaints about Moodle VLE from 17 people since 21:05.",
    "terms": [{"term": "upload", "ratio": 9.5, "posts": 14}, {"term": "deadline", "ratio": 6.0, "posts": 9}],
    "representatives": ["moodle keeps timing out when I upload my essay"],
    "affected_authors": 17,
}


@pytest.fixture
def detected(db):  # type: ignore[no-untyped-def]
    ServiceFactory(id="vle", name="Moodle VLE")
    incident = incident_create(
        service_id="vle",
        title="Moodle VLE: complaints rising",
        started_at=ONSET,
        kind=IncidentKind.DETECTED,
        state=IncidentState.CONFIRMED,
        explanation=EXPLANATION,
    )
    posts = [MentionFactory(author=f"student{i}", created_at=ONSET + timedelta(minutes=i)) for i in range(3)]
    incident_attach_mentions(incident=incident, posts=[(p.pk, p.author_key) for p in posts])
    return incident


def test_one_click_publish_with_drafted_update(client, users, detected) -> None:  # type: ignore[no-untyped-def]
    """A POST without the review form's fields (the incident page's button, scripts) publishes the draft."""
    client.force_login(users["responder"])
    response = client.post(f"/status/manage/from-incident/{detected.pk}/")
    public = PublicIncident.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/status/manage/incidents/{public.pk}/"
    assert public.detected_incident_id == detected.pk
    assert public.title == "Moodle VLE: problems reported"  # the service, not a raw rising term
    assert [s.id for s in public.services.all()] == ["vle"]
    assert public.impact == "partial_outage"  # 17 people
    first = public.updates.get()
    assert first.status == "investigating"
    assert first.body.startswith(
        "We are investigating reports of problems with Moodle VLE, mostly mentioning “upload”, “deadline”."
    )
    assert "17 people" in first.body
    # Published once: a second click explains, and the list no longer offers it.
    client.post(f"/status/manage/from-incident/{detected.pk}/")
    assert PublicIncident.objects.count() == 1
    assert "Review and publish" not in client.get("/status/manage/").content.decode()
    assert client.get(f"/status/manage/from-incident/{detected.pk}/").status_code == 302  # nothing to review
    # The people whose complaints are attached are the closed loop's recipients.
    preview = loop_preview(incident=public)
    assert sorted(r.mention.author for r in preview.recipients) == ["student0", "student1", "student2"]
    assert {r.outcome for r in preview.recipients} == {"cannot_reply"}  # file imports cannot reply: listed


@pytest.mark.parametrize(
    ("time_zone", "now", "since"),
    [
        # Europe/London is UTC in November: the same evening, then two days later.
        ("Europe/London", datetime(2026, 11, 20, 21, 55, tzinfo=UTC), "since 20 Nov 2026, 21:05 GMT."),
        ("Europe/London", datetime(2026, 11, 22, 9, 0, tzinfo=UTC), "since 20 Nov 2026, 21:05 GMT."),
        # The organisation's day, not UTC's: 16:05 in New York is still the 20th there at 02:00 UTC on the
        # 21st, and the day before after its midnight (05:30 UTC).
        ("America/New_York", datetime(2026, 11, 21, 2, 0, tzinfo=UTC), "since 20 Nov 2026, 16:05 EST."),
        ("America/New_York", datetime(2026, 11, 21, 5, 30, tzinfo=UTC), "since 20 Nov 2026, 16:05 EST."),
    ],
)
def test_the_first_update_names_the_day_an_incident_began_when_it_is_not_today(  # type: ignore[no-untyped-def]
    client, users, detected, settings, time_zone: str, now: datetime, since: str
) -> None:
    """The drafted first update said "17 people have told us since 21:05" for an incident that began days
    earlier, which reads as this evening; the start now carries its day, as every time on the pages does
    (`local_time_text`). The public text names the organisation's time zone (students abroad read it in
    theirs)."""
    settings.TIME_ZONE = time_zone
    assert since == f"since {local_time_text(ONSET)}."  # the one way the pages write a time
    with freeze_time(now):
        client.force_login(users["responder"])
        review = client.get(f"/status/manage/from-incident/{detected.pk}/").content.decode()
        client.post(f"/status/manage/from-incident/{detected.pk}/")
    body = PublicIncident.objects.get().updates.get().body
    assert f"17 people have told us {since}" in body
    assert f"17 people have told us {since}" in review  # what the responder reviews is what is posted
    # The detector's own summary shown above the draft says the same.
    assert re.search(rf"from \d+ people {re.escape(since[:-1])}\b", review)


def test_the_draft_is_reviewed_and_edited_before_anything_is_public(client, users, detected) -> None:  # type: ignore[no-untyped-def]
    """The manage page leads to the drafted title and first update, editable; only the POST publishes."""
    client.force_login(users["responder"])
    manage = client.get("/status/manage/").content.decode()
    review_url = f"/status/manage/from-incident/{detected.pk}/"
    assert "Incidents not yet on the status page" in manage and f'href="{review_url}"' in manage
    assert "Review and publish" in manage
    review = client.get(review_url)
    html = review.content.decode()
    # Reading the draft posts nothing.
    assert review.status_code == 200 and not PublicIncident.objects.exists()
    assert 'value="Moodle VLE: problems reported"' in html
    assert "mostly mentioning “upload”, “deadline”" in html and "Nothing is public yet" in html
    # An emptied first update is refused, the edits kept.
    refused = client.post(
        review_url, {"title": "Moodle uploads failing", "impact": "major_outage", "body": "  "}
    )
    assert refused.status_code == 400 and not PublicIncident.objects.exists()
    assert 'value="Moodle uploads failing"' in refused.content.decode()
    assert "First update: This field is required." in refused.content.decode()
    response = client.post(
        review_url,
        {"title": "Moodle uploads failing", "impact": "major_outage", "body": "Uploads to Moodle fail."},
    )
    public = PublicIncident.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/status/manage/incidents/{public.pk}/"
    assert (public.title, public.impact, public.detected_incident_id) == (
        "Moodle uploads failing",
        "major_outage",
        detected.pk,
    )
    assert [u.body for u in public.updates.all()] == ["Uploads to Moodle fail."]
    shown = client.get(response["Location"]).content.decode()
    assert "Published “Moodle uploads failing” on the status page." in shown
    # Nothing edits a public incident after it is published, so the message does not offer it.
    assert "edit the first update" not in shown


def test_only_confirmed_public_services_and_responders(client, users, detected) -> None:  # type: ignore[no-untyped-def]
    client.force_login(users["viewer"])
    assert client.post(f"/status/manage/from-incident/{detected.pk}/").status_code == 403
    client.force_login(users["responder"])
    possible = incident_create(
        service_id="vle",
        title="maybe",
        started_at=ONSET,
        kind=IncidentKind.DETECTED,
        state=IncidentState.POSSIBLE,
    )
    client.post(f"/status/manage/from-incident/{possible.pk}/")
    ServiceFactory(id="payroll", name="Payroll", public=False)
    private = incident_create(
        service_id="payroll", title="payroll", started_at=ONSET, kind=IncidentKind.DETECTED
    )
    response = client.post(f"/status/manage/from-incident/{private.pk}/", follow=True)
    assert "Payroll is not shown on the status page" in response.content.decode()
    assert client.post("/status/manage/from-incident/999999/").status_code == 302
    assert not PublicIncident.objects.exists()


def test_plain_draft_without_explanation(client, users, db) -> None:  # type: ignore[no-untyped-def]
    ServiceFactory(id="wifi", name="Wi-Fi")
    bare = incident_create(service_id="wifi", title="Wi-Fi", started_at=ONSET, kind=IncidentKind.MANUAL)
    client.force_login(users["responder"])
    client.post(f"/status/manage/from-incident/{bare.pk}/")
    public = PublicIncident.objects.get()
    assert public.title == "Wi-Fi: problems reported" and public.impact == "degraded"
    assert public.updates.get().body == (
        "We are investigating reports that Wi-Fi is not working as expected. "
        "We will post an update within 30 minutes."
    )


def test_the_drafted_first_update_says_each_thing_once_and_past_an_incident_in_the_past_tense(  # type: ignore[no-untyped-def]
    detected, settings
) -> None:
    """The draft said "We are investigating reports of problems with Moodle VLE. People report problems with
    Moodle VLE, mostly mentioning ...": the service and the symptom twice. For an incident already over it
    still said "17 people have told us since ..." and nothing about its end."""
    from servicepulse.incidents.services import incident_update_status
    from servicepulse.status.services import public_incident_draft

    settings.TIME_ZONE = "Europe/London"
    with freeze_time(ONSET + timedelta(minutes=50)):
        live = public_incident_draft(incident_id=detected.pk)
    assert live.body == (
        "We are investigating reports of problems with Moodle VLE, mostly mentioning “upload”, “deadline”. "
        "17 people have told us since 20 Nov 2026, 21:05 GMT. We will post an update within 30 minutes."
    )
    incident_update_status(incident=detected, state=IncidentState.RESOLVED, at=ONSET + timedelta(hours=3))
    with freeze_time(ONSET + timedelta(days=2)):
        report = public_incident_draft(incident_id=detected.pk)
    assert report.body == (
        "From 20 Nov 2026, 21:05 GMT to 21 Nov 2026, 00:05 GMT, people had problems with Moodle VLE, mostly "
        "mentioning “upload”, “deadline”. 17 people told us about it. This problem is resolved."
    )
    assert report.body.count("Moodle VLE") == 1 and "have told us since" not in report.body


def test_maintenance_is_mirrored_into_detection_and_cancelled_with_it(db) -> None:  # type: ignore[no-untyped-def]
    ServiceFactory(id="vle", name="Moodle VLE")
    ServiceFactory(id="email", name="E-mail")
    now = timezone.now()
    window = maintenance_schedule(
        title="Moodle upgrade",
        service_ids=["vle", "email"],
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(hours=2),
    )
    mirrors = Incident.objects.filter(kind=IncidentKind.MAINTENANCE)
    assert sorted(mirrors.values_list("service_id", flat=True)) == ["email", "vle"]
    assert sorted(window.detection_incident_ids) == sorted(mirrors.values_list("pk", flat=True))
    assert maintenance_active(service_id="vle", at=now)
    maintenance_cancel(maintenance=window)
    assert set(Incident.objects.filter(kind=IncidentKind.MAINTENANCE).values_list("state", flat=True)) == {
        "resolved"
    }
    assert not maintenance_active(service_id="vle", at=now)


@freeze_time(ONSET + timedelta(days=1), tick=True)
def test_a_resolved_incident_is_published_as_an_incident_report(client, users, detected) -> None:  # type: ignore[no-untyped-def]
    """The demo's deadline-night incident is over by the time anyone looks: it can still be published, as a
    report that started and ended when the incident did, so the closed loop can tell everyone. The next day:
    the manage page offers incidents resolved in the last 30 days, and on the real clock this one (resolved
    2026-11-21) dropped out of the list from 2026-12-21."""
    from servicepulse.incidents.services import incident_update_status

    ended = ONSET + timedelta(hours=3)
    incident_update_status(
        incident=detected, state=IncidentState.RESOLVED, at=ended, comment="back to normal"
    )
    client.force_login(users["responder"])
    assert "Review and publish" in client.get("/status/manage/").content.decode()
    review = client.get(f"/status/manage/from-incident/{detected.pk}/").content.decode()
    assert "Closing update" in review and "working normally since" in review
    client.post(
        f"/status/manage/from-incident/{detected.pk}/",
        {
            "title": "Moodle VLE: uploads failed",
            "impact": "degraded",
            "body": "Uploads to Moodle failed.",
            "resolved_body": "Uploads work again.",
        },
    )
    public = PublicIncident.objects.get()
    assert (public.status, public.started_at, public.resolved_at) == ("resolved", ONSET, ended)
    assert [(u.status, u.body) for u in public.updates.order_by("created_at")] == [
        ("investigating", "Uploads to Moodle failed."),
        ("resolved", "Uploads work again."),
    ]
    preview = loop_preview(incident=public)
    assert sorted(r.mention.author for r in preview.recipients) == ["student0", "student1", "student2"]


def test_the_incident_page_offers_publishing_to_responders(client, users, detected) -> None:  # type: ignore[no-untyped-def]
    page = f"/incidents/{detected.pk}/"
    client.force_login(users["viewer"])
    assert "Review and publish on the status page" not in client.get(page).content.decode()
    client.force_login(users["responder"])
    html = client.get(page).content.decode()
    # It leads to the review page: nothing goes public before the responder has read the draft.
    assert "Review and publish on the status page" in html and "which you can edit next" not in html
    assert f'href="/status/manage/from-incident/{detected.pk}/"' in html
    client.post(f"/status/manage/from-incident/{detected.pk}/", {"next": page})
    public = PublicIncident.objects.get(detected_incident_id=detected.pk)
    html = client.get(page).content.decode()
    assert "Review and publish on the status page" not in html  # published once
    assert f'href="/status/manage/incidents/{public.pk}/"' in html
    # A rise that faded before it was confirmed is not offered.
    faded = incident_create(
        service_id="vle",
        title="Moodle VLE: complaints rising",
        started_at=ONSET + timedelta(days=2),
        kind=IncidentKind.DETECTED,
        state=IncidentState.POSSIBLE,
    )
    Incident.objects.filter(pk=faded.pk).update(state=IncidentState.RESOLVED, resolved_at=timezone.now())
    assert (
        "Review and publish on the status page" not in client.get(f"/incidents/{faded.pk}/").content.decode()
    )
    # Nor listed on the manage page among the detected incidents to publish (it was, with a link to review).
    assert f"/status/manage/from-incident/{faded.pk}/" not in client.get("/status/manage/").content.decode()


def test_subscribers_get_one_email_about_an_incident_report(
    client, users, detected, immediate_tasks, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    """Publishing an outage that ended days ago e-mailed subscribers "[Investigating] ... We will post an
    update within 30 minutes" dated days back, then "[Resolved]": the first read as a new outage. A report
    now e-mails only its resolved update, its first update promises nothing, and times name their zone."""
    from django.core import mail

    from servicepulse.incidents.services import incident_update_status
    from servicepulse.status.models import Subscription

    Subscription.objects.create(email="stu@example.ac.uk", service_id="vle", confirmed_at=timezone.now())
    incident_update_status(incident=detected, state=IncidentState.RESOLVED, at=ONSET + timedelta(hours=3))
    client.force_login(users["responder"])
    review = client.get(f"/status/manage/from-incident/{detected.pk}/").content.decode()
    assert "within 30 minutes" not in review
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/status/manage/from-incident/{detected.pk}/")
    public = PublicIncident.objects.get()
    first, closing = public.updates.order_by("created_at")
    assert "within 30 minutes" not in first.body
    assert (
        first.body.startswith(f"From {local_time_text(ONSET)} to ")
        and "From 20 Nov 2026, 21:05 GMT" in first.body
    )
    ended = local_time_text(ONSET + timedelta(hours=3))
    assert ended == "21 Nov 2026, 00:05 GMT"
    assert closing.body.startswith(f"Moodle VLE has been working normally since {ended}.")
    assert [m.subject for m in mail.outbox] == ["[Resolved] Moodle VLE: problems reported"]
    assert closing.body in mail.outbox[0].body


def test_a_live_incident_still_mails_its_first_update(
    client, users, detected, immediate_tasks, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    from django.core import mail

    from servicepulse.status.models import Subscription

    Subscription.objects.create(email="stu@example.ac.uk", service_id="vle", confirmed_at=timezone.now())
    client.force_login(users["responder"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/status/manage/from-incident/{detected.pk}/")
    assert [m.subject for m in mail.outbox] == ["[Investigating] Moodle VLE: problems reported"]
    assert "We will post an update within 30 minutes." in mail.outbox[0].body
