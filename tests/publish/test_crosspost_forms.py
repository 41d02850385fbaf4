"""The cross-posting pages refuse what could only fail later, with the reason beside the field and nothing
typed lost: tampered ids get 400/404 (never a 500 or a database message), Reddit accounts need a well-formed
subreddit (which can also be cleared), and a copy's text must fit its network when it is saved."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command
from django.test import Client, TestCase
from django.utils import timezone

from servicepulse.blog.services import post_create
from servicepulse.publish.crosspost import TargetError, subreddit_name, target_set
from servicepulse.publish.models import CrossPost, CrossPostState, CrossPostTarget
from servicepulse.sources.models import Source
from servicepulse.sources.services import source_create
from tests.blog.test_posts import clock_change_nights
from tests.publish.test_crosspost import bluesky_account, mastodon_account, publish_post

pytestmark = pytest.mark.django_db
ACCOUNTS = "/publish/accounts/"


def reddit_account() -> Source:
    return source_create(
        kind="reddit", name="u/NorthfieldIT",
        options={"subreddits": "northfielduni", "client_id": "a", "client_secret": "b", "username": "c",
                 "password": "d", "oauth_url": "http://127.0.0.1:9", "reddit_url": "http://127.0.0.1:9"},
    )  # fmt: skip


@pytest.fixture
def admin(client: Client, users) -> Client:  # type: ignore[no-untyped-def]
    client.force_login(users["admin"])
    return client


@pytest.fixture
def responder(client: Client, users) -> Client:  # type: ignore[no-untyped-def]
    client.force_login(users["responder"])
    return client


# -- tampered ids ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["abc", "1.5", "-1", "99999999999999999999999", "999999"])
def test_accounts_page_refuses_a_source_that_is_not_an_account(admin: Client, source: str) -> None:
    mastodon_account("http://127.0.0.1:9")
    response = admin.post(
        ACCOUNTS, {"network": "mastodon", "source": source, "enabled": "on", "mode": "auto"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Not saved: account: Select a valid choice." in page
    assert "Traceback" not in page and "expected a number" not in page
    assert not CrossPostTarget.objects.exists()


@pytest.mark.parametrize(
    ("fields", "shown"),
    [
        ({"network": "myspace"}, "Not saved: network: Select a valid choice."),
        (
            {"network": "mastodon", "mode": "sometimes"},
            '<p class="error" role="alert">Select a valid choice.',
        ),
        ({"network": "reddit"}, "is a mastodon source, not reddit"),  # a Reddit setting on a Mastodon account
    ],
)
def test_accounts_page_refuses_other_tampering(admin: Client, fields: dict[str, str], shown: str) -> None:
    account = mastodon_account("http://127.0.0.1:9")
    response = admin.post(ACCOUNTS, {"source": account.pk, "enabled": "on", **fields})
    assert response.status_code == 400
    assert shown in response.content.decode()
    assert not CrossPostTarget.objects.exists()


@pytest.mark.parametrize("copy_id", ["abc", "", "1e3", "99999999999999999999999"])
def test_preview_page_refuses_a_copy_id_that_is_not_one(responder: Client, copy_id: str) -> None:
    target_set(network="mastodon", source=mastodon_account("http://127.0.0.1:9"))
    post = publish_post()
    copy = CrossPost.objects.get(post=post)
    response = responder.post(f"/publish/posts/{post.slug}/", {"action": "send", "crosspost": copy_id})
    assert response.status_code in (400, 404)
    page = response.content.decode()
    assert "expected a number" not in page and "Field &#x27;id&#x27;" not in page
    copy.refresh_from_db()
    assert copy.state == CrossPostState.DRAFT


def test_preview_page_ids_of_another_post_or_unknown_actions(responder: Client) -> None:
    target_set(network="mastodon", source=mastodon_account("http://127.0.0.1:9"))
    post = publish_post()
    copy = CrossPost.objects.get(post=post)
    other = post_create(title="Another post", body_markdown="Text.", author=None, slug="another-post")
    url = f"/publish/posts/{other.slug}/"
    assert responder.post(url, {"action": "send", "crosspost": copy.pk}).status_code == 404
    assert responder.post(url, {"action": "postback", "comment": "abc"}).status_code == 400
    assert responder.post(url, {"action": "postback", "comment": "12345"}).status_code == 404
    refused = responder.post(url, {"action": "launch", "crosspost": copy.pk})
    assert refused.status_code == 400 and "Nothing done: action:" in refused.content.decode()
    bad_time = responder.post(
        f"/publish/posts/{post.slug}/", {"action": "schedule", "crosspost": copy.pk, "send_at": "tomorrow"}
    )
    assert bad_time.status_code == 400
    assert (
        f"send at ({timezone.get_current_timezone_name()} time): Enter a date and time, for example "
        "2026-11-20 21:00."
    ) in bad_time.content.decode()
    copy.refresh_from_db()
    assert copy.state == CrossPostState.DRAFT


def test_a_send_time_on_a_clock_change_night_is_answered_in_words(responder: Client, settings) -> None:  # type: ignore[no-untyped-def]
    """Django's own field answered both nights with "couldn't be interpreted in time zone Europe/London; it
    may be ambiguous or it may not exist". A repeated time is taken at its first occurrence, saying so; a
    skipped one is refused, saying the clocks went forward. On the real clock, next year's nights (a send
    time is in the future; freezegun's datetimes lose the fold that tells 01:30 BST from 01:30 GMT)."""
    settings.TIME_ZONE = "Europe/London"
    target_set(network="mastodon", source=mastodon_account("http://127.0.0.1:9"))
    post = publish_post()
    copy = CrossPost.objects.get(post=post)
    url = f"/publish/posts/{post.slug}/"
    skipped, repeated = clock_change_nights(timezone.now().year + 1)
    assert "or at (Europe/London time)" in responder.get(url).content.decode()

    refused = responder.post(url, {"action": "schedule", "crosspost": copy.pk, "send_at": f"{skipped}T01:30"})
    text = refused.content.decode().replace("&#x27;", "'")
    day = f"{skipped.day} {skipped:%b %Y}"
    assert refused.status_code == 400 and "couldn" not in text
    assert (
        f"Nothing done: send at (Europe/London time): {day}, 01:30 does not exist in Europe/London: the clocks "
        f"went forward that night (GMT to BST), skipping it. Enter a time outside the skipped hour, for "
        f"example {day}, 02:30 BST."
    ) in text
    copy.refresh_from_db()
    assert copy.state == CrossPostState.DRAFT

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = responder.post(
            url,
            {"action": "schedule", "crosspost": copy.pk, "send_at": f"{repeated}T01:30"},
            follow=True,
        )
    copy.refresh_from_db()
    assert copy.state == CrossPostState.SCHEDULED
    assert copy.send_at == datetime(repeated.year, repeated.month, repeated.day, 0, 30, tzinfo=UTC)  # BST
    day = f"{repeated.day} {repeated:%b %Y}"
    assert [str(m) for m in response.context["messages"]] == [
        f"Scheduled for {day}, 01:30 BST.",
        f"{day}, 01:30 happens twice in Europe/London as the clocks go back: it was taken as the first, "
        f"{day}, 01:30 BST, not the second, {day}, 01:30 GMT (an hour later).",
    ]


# -- Reddit subreddits -----------------------------------------------------------------------------------


def test_reddit_cannot_be_enabled_without_a_subreddit(admin: Client) -> None:
    account = reddit_account()
    response = admin.post(
        ACCOUNTS,
        {"network": "reddit", "source": account.pk, "enabled": "on", "mode": "auto", "subreddit": ""},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "give one before enabling it" in page and 'id="subreddit-error-' in page
    assert 'value="auto" selected' in page and "checked" in page  # what was chosen is shown again
    assert not CrossPostTarget.objects.exists()
    # Disabled, it needs none.
    assert (
        admin.post(ACCOUNTS, {"network": "reddit", "source": account.pk, "subreddit": ""}).status_code == 302
    )


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("r/northfielduni", "northfielduni"), ("/r/North_field_1", "North_field_1"), ("  abc  ", "abc")],
)
def test_a_subreddit_is_stored_bare(admin: Client, typed: str, stored: str) -> None:
    account = reddit_account()
    response = admin.post(
        ACCOUNTS,
        {"network": "reddit", "source": account.pk, "enabled": "on", "mode": "auto", "subreddit": typed},
    )
    assert response.status_code == 302
    assert CrossPostTarget.objects.get(source=account).options == {"subreddit": stored}


@pytest.mark.parametrize(
    "typed", ["r/not valid!!<script>", "ab", "a" * 22, "north-field", "r/northfield/new", "ñandú"]
)
def test_a_subreddit_that_cannot_be_one_is_refused_and_shown_again(admin: Client, typed: str) -> None:
    account = reddit_account()
    target_set(network="reddit", source=account, options={"subreddit": "northfielduni"})
    response = admin.post(
        ACCOUNTS,
        {"network": "reddit", "source": account.pk, "enabled": "on", "mode": "review", "subreddit": typed},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "3 to 21 letters, digits or underscores" in page
    assert "<script>" not in page
    assert CrossPostTarget.objects.get(source=account).options == {"subreddit": "northfielduni"}  # unchanged


def test_a_subreddit_can_be_cleared(admin: Client) -> None:
    account = reddit_account()
    target_set(network="reddit", source=account, options={"subreddit": "northfielduni"})
    response = admin.post(
        ACCOUNTS, {"network": "reddit", "source": account.pk, "mode": "review", "subreddit": ""}
    )
    assert response.status_code == 302
    target = CrossPostTarget.objects.get(source=account)
    assert (target.enabled, target.options) == (False, {})
    assert 'name="subreddit" value=""' in admin.get(ACCOUNTS).content.decode()


def test_the_service_and_the_command_check_subreddits_too() -> None:
    account = reddit_account()
    assert subreddit_name("R/Northfield") == "Northfield"
    with pytest.raises(TargetError, match="3 to 21"):
        target_set(network="reddit", source=account, options={"subreddit": "not valid!!"})
    with pytest.raises(CommandError, match="give one before enabling it"):
        call_command("crosspost_account", account.name)
    with pytest.raises(CommandError, match="3 to 21"):
        call_command("crosspost_account", account.name, "--subreddit", "x")
    call_command("crosspost_account", account.name, "--subreddit", "r/northfielduni")
    assert CrossPostTarget.objects.get(source=account).options == {"subreddit": "northfielduni"}


# -- cross-post text --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("   ", "the text for Bluesky is empty"),
        ("é" * 301, "Bluesky takes at most 300 graphemes; this text has 301"),
    ],
)
def test_a_text_the_network_would_refuse_is_not_saved_and_kept_as_typed(
    responder: Client, text: str, reason: str
) -> None:
    target_set(network="bluesky", source=bluesky_account("http://127.0.0.1:9"))
    post = publish_post()
    copy = CrossPost.objects.get(post=post)
    drafted = copy.text
    for action in ("save", "send"):
        response = responder.post(
            f"/publish/posts/{post.slug}/", {"action": action, "crosspost": copy.pk, "text": text}
        )
        assert response.status_code == 400
        page = response.content.decode()
        assert f"Not saved: {reason}." in page
        assert f">{text}</textarea>" in page  # what was typed is still there to fix
        copy.refresh_from_db()
        assert (copy.text, copy.state) == (drafted, CrossPostState.DRAFT)  # and not sent


def test_a_text_within_the_limit_is_saved(responder: Client) -> None:
    target_set(network="bluesky", source=bluesky_account("http://127.0.0.1:9"))
    post = publish_post()
    copy = CrossPost.objects.get(post=post)
    response = responder.post(
        f"/publish/posts/{post.slug}/", {"action": "save", "crosspost": copy.pk, "text": "é" * 300}
    )
    assert response.status_code == 302
    copy.refresh_from_db()
    assert copy.text == "é" * 300 and copy.text_edited
