"""Putting a corrected label back to servicepulse's reading from the mentions explorer: a button beside each
correction in force (for those who may relabel), the post's label, the service page's cached themes and the
incident's count of people follow at once, the revert is shown with who made it and when, and a viewer may
not do it."""

from __future__ import annotations

import html as htmllib
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from servicepulse.analysis.models import Correction, MentionAnalysis
from servicepulse.incidents.models import Incident
from servicepulse.incidents.services import incident_attach_mentions, incident_create


def _said(response: Any) -> list[tuple[str, str]]:
    return [(m.level_tag, m.message) for m in get_messages(response.wsgi_request)]


@pytest.mark.django_db
def test_a_wrong_correction_is_put_back_and_everything_follows_at_once(
    world: dict[str, Any], clients: dict[str, Client]
) -> None:
    responder, viewer = clients["responder"], clients["viewer"]
    moodle = [m for m in world["mentions"] if m.text.startswith("moodle")]
    post = moodle[0]
    incident = incident_create(service_id="vle", title="Moodle down", started_at=timezone.now())
    incident_attach_mentions(incident=incident, posts=[(m.pk, m.author_key) for m in moodle])
    people = Incident.objects.get(pk=incident.pk).affected_authors
    assert people == len({m.author_key for m in moodle}) > 1

    theme = '<blockquote dir="ltr">moodle is down again and my essay is due at midnight</blockquote>'
    assert theme in htmllib.unescape(viewer.get("/services/vle/").content.decode())  # themes now cached

    # By mistake, every moodle post is marked spam: the theme and the incident's people go at once.
    responder.post(
        "/mentions/relabel/", {"mention_ids": [m.pk for m in moodle], "field": "spam", "spam": "yes"}
    )
    assert theme not in htmllib.unescape(viewer.get("/services/vle/").content.decode())
    assert Incident.objects.get(pk=incident.pk).affected_authors == 0

    # A viewer sees the correction but no button, and may not put it back.
    assert "/revert/" not in viewer.get("/mentions/").content.decode()
    refused = viewer.post(f"/mentions/{post.pk}/revert/", {"revert": "spam"})
    assert refused.status_code == 403
    assert MentionAnalysis.objects.get(mention=post).spam is True

    page = responder.get("/mentions/").content.decode()
    assert (
        f'formaction="/mentions/{post.pk}/revert/" formnovalidate name="revert" value="spam">'
        "Put back servicepulse's reading"
    ) in page

    # The button sits inside the relabel form: what else that form holds (ticked posts, a label) is ignored.
    response = responder.post(
        f"/mentions/{post.pk}/revert/",
        {
            "revert": "spam",
            "mention_ids": [moodle[1].pk],
            "field": "complaint",
            "next": "/mentions/?spam=yes",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/mentions/?spam=yes"
    assert _said(response) == [
        (
            "success",
            "Put the post's spam back to servicepulse's reading. The correction stays on record, and the models "
            "no longer learn from it at the next training.",
        )
    ]
    analysis = MentionAnalysis.objects.get(mention=post)
    assert (analysis.spam, analysis.corrected) == (False, [])
    assert MentionAnalysis.objects.get(mention=moodle[1]).spam is True  # only the post asked for
    assert Incident.objects.get(pk=incident.pk).affected_authors == 1
    for other in moodle[1:]:
        responder.post(f"/mentions/{other.pk}/revert/", {"revert": "spam"})
    assert Incident.objects.get(pk=incident.pk).affected_authors == people
    assert theme in htmllib.unescape(viewer.get("/services/vle/").content.decode())  # not ten minutes later

    # On record, not deleted: who corrected it, who put it back and when, shown to anyone who reads the page.
    correction = Correction.objects.get(mention=post)
    assert correction.reverted_by is not None and correction.reverted_by.get_username() == "responder"
    text = htmllib.unescape(viewer.get("/mentions/").content.decode())
    assert "Spam put back to servicepulse's reading by responder" in text
    assert "(responder had set it to spam)" in text

    # A second click (another tab, a stale page) says there is nothing to put back.
    again = responder.post(f"/mentions/{post.pk}/revert/", {"revert": "spam"})
    assert _said(again)[-1] == (
        "info",
        "Nothing to put back: the post's spam is already servicepulse's own reading (someone may have put it "
        "back or the page was out of date).",
    )


@pytest.mark.django_db
@pytest.mark.parametrize("bad", ["", "language", "spam; drop"])
def test_an_unknown_label_or_post_is_refused_plainly(
    bad: str, world: dict[str, Any], clients: dict[str, Client]
) -> None:
    post = world["mentions"][0]
    responder = clients["responder"]
    response = responder.post(
        f"/mentions/{post.pk}/revert/", {"revert": bad, "next": "https://evil.example/"}
    )
    assert response.status_code == 302 and response["Location"] == "/mentions/"
    assert _said(response)[-1][0] == "error"
    assert responder.post(f"/mentions/{2**63}/revert/", {"revert": "spam"}).status_code == 404
    gone = responder.post(f"/mentions/{post.pk + 10_000}/revert/", {"revert": "spam"})
    assert _said(gone)[-1] == (
        "warning",
        "Nothing was put back: the post no longer exists (deleted by retention or erased since the page was "
        "shown).",
    )
