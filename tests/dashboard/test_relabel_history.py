"""Correcting labels in the mentions explorer: a relabel that cannot be applied keeps what the analyst chose
(the ticked posts, the label, the value) beside what was wrong; each corrected label is marked where it is shown,
with who set it, when, and what servicepulse had read, so a wrong correction can be traced and put back."""

from __future__ import annotations

import html as htmllib
import re
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from servicepulse.analysis.models import Correction, MentionAnalysis


def _ticked(html: str) -> set[int]:
    return {
        int(pk)
        for pk in re.findall(
            r'<input type="checkbox" name="mention_ids" value="(\d+)" id="m\d+" checked', html
        )
    }


def _row(html: str, mention_id: int) -> str:
    start = html.index(f'value="{mention_id}" id="m{mention_id}"')
    return html[start : html.index("</tr>", start)]


@pytest.mark.django_db
def test_a_relabel_missing_its_value_keeps_the_ticked_posts_and_the_label(
    world: dict[str, Any], clients: dict[str, Client]
) -> None:
    responder = clients["responder"]
    chosen = [m.pk for m in world["mentions"][:3]]
    response = responder.post(
        "/mentions/relabel/",
        {"mention_ids": chosen, "field": "sentiment", "value": "", "next": "/mentions/?complaint=yes"},
    )
    assert response.status_code == 302 and response["Location"] == "/mentions/?complaint=yes"
    assert not Correction.objects.exists()

    html = responder.get(response["Location"]).content.decode()
    complaints = set(
        MentionAnalysis.objects.filter(mention_id__in=chosen, complaint=True).values_list(
            "mention_id", flat=True
        )
    )
    assert len(complaints) == 2
    assert _ticked(html) == complaints  # those still on this page are still ticked
    assert '<option value="sentiment" selected>Sentiment</option>' in html
    assert "Say negative, neutral or positive." in html  # beside the Sentiment list, not only at the top

    # No post ticked: said so plainly (it used to read "Choose posts and a label to set: Posts: This field is
    # required." whatever was missing).
    response = responder.post("/mentions/relabel/", {"field": "spam", "value": "yes"})
    said = [m.message for m in get_messages(response.wsgi_request)]
    assert said[-1] == "Nothing was relabelled. Posts: Tick the posts to relabel."
    responder.get("/mentions/")

    # Only once: the next visit starts afresh.
    again = responder.get("/mentions/?complaint=yes").content.decode()
    assert _ticked(again) == set()
    assert '<option value="sentiment" selected>' not in again


@pytest.mark.django_db
def test_an_unknown_service_keeps_what_was_typed(world: dict[str, Any], clients: dict[str, Client]) -> None:
    responder = clients["responder"]
    post = world["mentions"][0]
    responder.post(
        "/mentions/relabel/",
        {"mention_ids": [post.pk], "field": "services", "value": "moodle; Hogwarts", "next": "/mentions/"},
    )
    html = responder.get("/mentions/").content.decode()
    assert _ticked(html) == {post.pk}
    assert 'value="moodle; Hogwarts"' in html
    assert "No service is called &#x27;Hogwarts&#x27;" in html


@pytest.mark.django_db
def test_each_corrected_label_says_who_set_it_and_what_was_read_before(
    world: dict[str, Any], clients: dict[str, Client]
) -> None:
    post = world["mentions"][0]  # moodle is down: a complaint, negative, the VLE, not spam
    responder = clients["responder"]
    responder.post("/mentions/relabel/", {"mention_ids": [post.pk], "field": "sentiment", "value": "neutral"})
    responder.post(
        "/mentions/relabel/", {"mention_ids": [post.pk], "field": "services", "services": ["wifi"]}
    )

    # Anyone who reads the explorer sees it, viewers included.
    text = htmllib.unescape(clients["viewer"].get("/mentions/").content.decode())
    assert "Sentiment set to neutral by responder" in text
    assert "(servicepulse had read: negative)" in text
    assert "Services set to Wi-Fi and eduroam by responder" in text
    assert "(servicepulse had read: Moodle VLE)" in text

    row = htmllib.unescape(_row(responder.get("/mentions/").content.decode(), post.pk))
    cells = row.split("<td>")
    services, complaint, sentiment, spam = cells[-4:]
    assert "✎" in services and "✎" in sentiment
    # The labels nobody corrected are not marked (the mark used to sit on Complaint whatever was corrected).
    assert "✎" not in complaint and "✎" not in spam

    # Corrected again: the label in force is the one described.
    responder.post(
        "/mentions/relabel/", {"mention_ids": [post.pk], "field": "sentiment", "value": "positive"}
    )
    text = htmllib.unescape(clients["viewer"].get("/mentions/").content.decode())
    assert "Sentiment set to positive by responder" in text
    assert "Sentiment set to neutral" not in text
