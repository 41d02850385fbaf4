"""Relabelling from the explorer: a crafted post id is refused, not a 500; a relabel shows at once on the service
page's themes too (they are cached ten minutes); ticked posts deleted meanwhile are named, not silently skipped."""

from __future__ import annotations

import html as htmllib
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from servicepulse.analysis.models import Correction
from servicepulse.mentions.services import mentions_erase_author


@pytest.mark.django_db
@pytest.mark.parametrize("bad_id", ["99999999999999999999999", str(2**63), "0", "-3"])
def test_a_post_id_no_post_can_have_is_refused_not_a_500(
    bad_id: str, world: dict[str, Any], clients: dict[str, Client]
) -> None:
    # Any whole number used to go to the database, which refused one past 64 bits (OverflowError on SQLite, out
    # of range on PostgreSQL): a 500.
    post = world["mentions"][0]
    response = clients["responder"].post(
        "/mentions/relabel/",
        {"mention_ids": [post.pk, bad_id], "field": "spam", "spam": "yes", "next": "/mentions/"},
    )
    assert response.status_code == 302 and response["Location"] == "/mentions/"
    message = list(get_messages(response.wsgi_request))[-1]
    assert message.level_tag == "error" and message.message.startswith("Nothing was relabelled. Posts:")
    assert not Correction.objects.exists()


@pytest.mark.django_db
def test_posts_relabelled_away_leave_the_service_pages_themes_at_once(
    world: dict[str, Any], clients: dict[str, Client]
) -> None:
    viewer = clients["viewer"]
    page = htmllib.unescape(viewer.get("/services/vle/").content.decode())
    # The VLE's theme, with this post as its example (the recent posts list it too, spam or not).
    assert '<blockquote dir="ltr">moodle is down again and my essay is due at midnight</blockquote>' in page

    moodle = [m.pk for m in world["mentions"] if m.text.startswith("moodle")]
    response = clients["responder"].post(
        "/mentions/relabel/", {"mention_ids": moodle, "field": "spam", "spam": "yes"}
    )
    assert list(get_messages(response.wsgi_request))[-1].message.startswith(f"Relabelled {len(moodle)} posts")

    # The themes were kept ten minutes whatever was relabelled: spam was still shown as the VLE's theme.
    page = htmllib.unescape(viewer.get("/services/vle/").content.decode())
    assert '<blockquote dir="ltr">moodle is down again' not in page
    assert "No complaint themes this week." in page


@pytest.mark.django_db
def test_ticked_posts_erased_meanwhile_are_named_not_silently_skipped(
    world: dict[str, Any], clients: dict[str, Client]
) -> None:
    kept, erased = world["mentions"][0], world["mentions"][1]
    mentions_erase_author(author=erased.author)
    response = clients["responder"].post(
        "/mentions/relabel/", {"mention_ids": [kept.pk, erased.pk], "field": "spam", "spam": "no"}
    )
    said = [(m.level_tag, m.message) for m in get_messages(response.wsgi_request)]
    assert said == [
        ("success", "Relabelled 1 post. The models learn from it at the next training."),
        (
            "warning",
            "1 of the ticked posts no longer exists (deleted by retention or erased since the page was shown) "
            "and was not relabelled.",
        ),
    ]
    assert list(Correction.objects.values_list("mention_id", flat=True)) == [kept.pk]
