"""What the leader meets on a post's cross-posting page: the drafted text reads as the post does (no HTML
entities, no word cut in half), the text a browser sends back is the draft (line breaks as "\\r\\n"), a send
time already past or a copy already sent is refused with the reason, a refusal keeps what was typed, and a
network's Retry-After is told in the organisation's time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client, TestCase
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from servicepulse.core.times import local_time_text
from servicepulse.publish.crosspost import (
    crosspost_edit_text,
    crosspost_schedule,
    crosspost_transition,
    post_summary,
    target_set,
)
from servicepulse.publish.models import CrossPost, CrossPostState, CrossPostTarget
from servicepulse.publish.networks import NETWORKS, draft_text
from tests.publish.conftest import fixture
from tests.publish.test_crosspost import mastodon_account, publish_post, x_account
from tests.replay import ReplayServer, Reply

pytestmark = pytest.mark.django_db
LONG_BODY = (
    "Over the break we move Moodle & Turnitin to the new servers. Q&A sessions run daily at 10:00 in the "
    "library. " * 12
)


@pytest.fixture
def responder(client: Client, users) -> Client:  # type: ignore[no-untyped-def]
    client.force_login(users["responder"])
    return client


def page_of(post) -> str:  # type: ignore[no-untyped-def]
    return f"/publish/posts/{post.slug}/"


def as_browser_sends(text: str) -> str:
    """A textarea's value as a browser submits it: every line break as CR LF (HTML form submission)."""
    return text.replace("\n", "\r\n")


def test_send_now_with_the_draft_as_the_browser_sends_it(responder: Client) -> None:
    target_set(network="mastodon", source=mastodon_account("http://127.0.0.1:9"))
    post = publish_post(title="Moodle & Turnitin: what changes over the winter break", body=LONG_BODY)
    copy = CrossPost.objects.get(post=post)
    draft = copy.text
    assert NETWORKS["mastodon"].length(draft) >= 497  # near the limit: two CR LF pairs would pass it

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = responder.post(
            page_of(post), {"action": "send", "crosspost": copy.pk, "text": as_browser_sends(draft)}
        )
    assert response.status_code == 302  # not "Mastodon takes at most 500 characters; this text has 504"
    copy.refresh_from_db()
    assert copy.state == CrossPostState.SCHEDULED
    assert copy.text == draft and "\r" not in copy.text
    assert not copy.text_edited  # still follows the blog post's edits


def test_a_reworded_copy_is_stored_with_plain_line_breaks(responder: Client) -> None:
    target_set(network="mastodon", source=mastodon_account("http://127.0.0.1:9"))
    post = publish_post()
    copy = CrossPost.objects.get(post=post)
    responder.post(
        page_of(post),
        {"action": "save", "crosspost": copy.pk, "text": "Moodle is moving.\r\n\r\nDetails soon."},
    )
    copy.refresh_from_db()
    assert copy.text == "Moodle is moving.\n\nDetails soon." and copy.text_edited


def test_the_draft_reads_as_the_post_not_as_its_html() -> None:
    post = publish_post(
        title="Moodle & Turnitin", body='Q&A on <Moodle> & "Turnitin": it\'s *new*.\n\n' + LONG_BODY
    )
    summary = post_summary(post)
    assert (
        "&amp;" not in summary.summary and "&lt;" not in summary.summary and "&#x27;" not in summary.summary
    )
    assert summary.summary.startswith('Q&A on & "Turnitin": it\'s new.')
    for kind in ("facebook", "linkedin", "mastodon", "x", "bluesky"):
        text = draft_text(
            network=NETWORKS[kind], title=summary.title, summary=summary.summary, link=summary.link
        )
        assert "&amp;" not in text, kind


def test_a_long_post_is_quoted_up_to_a_whole_word() -> None:
    post = publish_post(body=LONG_BODY)
    summary = post_summary(post).summary
    assert len(summary) <= 600 and summary.endswith("…")
    cut = summary.removesuffix("…")
    assert LONG_BODY.startswith(cut) and LONG_BODY[len(cut)] == " "  # the next character starts a new word
    text = draft_text(network=NETWORKS["facebook"], title="T", summary=summary, link="https://e.org/p/")
    assert text == f"T\n\n{summary}"  # Facebook's 63206 take it all: it ends on a whole word


def test_a_title_too_long_for_the_network_is_cut_after_a_whole_word() -> None:
    title = "IT: " + "Why the new student records system is taking longer than we planned " * 6
    text = draft_text(network=NETWORKS["reddit"], title=title, summary="", link="https://e.org/p/")
    assert len(text) <= 300 and text.endswith("…")
    cut = text.removesuffix("…")
    assert title.startswith(cut) and title[len(cut)] == " "


def test_a_send_time_already_past_is_refused_not_sent_at_once(responder: Client) -> None:
    target_set(network="mastodon", source=mastodon_account("http://127.0.0.1:9"))
    post = publish_post()
    copy = CrossPost.objects.get(post=post)
    past = timezone.localtime() - timedelta(days=400)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = responder.post(
            page_of(post),
            {"action": "schedule", "crosspost": copy.pk, "send_at": past.strftime("%Y-%m-%dT%H:%M")},
            follow=True,
        )
    assert "has already passed" in response.content.decode()
    copy.refresh_from_db()
    assert copy.state == CrossPostState.DRAFT
    assert not DBTaskResult.objects.filter(task_path__endswith="crosspost_send_task").exists()

    # The current minute, as a datetime-local input gives it, is still "now".
    now = timezone.localtime().replace(second=0, microsecond=0)
    with TestCase.captureOnCommitCallbacks(execute=True):
        responder.post(
            page_of(post),
            {"action": "schedule", "crosspost": copy.pk, "send_at": now.strftime("%Y-%m-%dT%H:%M")},
        )
    copy.refresh_from_db()
    assert copy.state == CrossPostState.SCHEDULED


def test_a_refused_text_keeps_the_send_time_typed_with_it(responder: Client) -> None:
    target_set(network="mastodon", source=mastodon_account("http://127.0.0.1:9"))
    post = publish_post()
    copy = CrossPost.objects.get(post=post)
    response = responder.post(
        page_of(post),
        {"action": "schedule", "crosspost": copy.pk, "text": "x" * 501, "send_at": "2031-12-01T09:30"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "takes at most 500 characters" in page
    assert 'name="send_at" value="2031-12-01T09:30"' in page


def test_a_sent_copy_is_not_discarded_from_a_stale_page(responder: Client) -> None:
    target_set(network="mastodon", source=mastodon_account("http://127.0.0.1:9"))
    post = publish_post()
    copy = CrossPost.objects.get(post=post)
    crosspost_transition(crosspost=copy, to=CrossPostState.SCHEDULED)
    crosspost_transition(
        crosspost=copy, to=CrossPostState.SENT, remote_id="113600000000000100", sent_text=copy.text
    )
    # The page was opened while the copy was still a draft; it has been sent since.
    response = responder.post(page_of(post), {"action": "discard", "crosspost": copy.pk}, follow=True)
    assert "only a copy not yet sent is discarded" in response.content.decode()
    copy.refresh_from_db()
    assert copy.state == CrossPostState.SENT  # still on Mastodon, still followed (edits, deletion)


def test_retry_after_is_told_in_the_organisations_time(run_publish_tasks, settings) -> None:  # type: ignore[no-untyped-def]
    settings.TIME_ZONE = "America/New_York"
    routes = {("POST", "/2/tweets"): [Reply(429, {"Retry-After": "120"}, fixture("x_error_429.json"))]}
    with ReplayServer(routes) as server:
        target_set(network="x", source=x_account(server.url), mode=CrossPostTarget.Mode.AUTO)
        post = publish_post()
        assert run_publish_tasks() == ["scheduled"]
    copy = CrossPost.objects.get(post=post)
    local = timezone.localtime(copy.send_at)
    assert local.utcoffset() != timedelta(0)
    assert f"trying again after {local_time_text(copy.send_at)} (" in copy.error
    assert local_time_text(copy.send_at).endswith(("EST", "EDT"))


def test_the_linkedin_card_description_ends_on_a_whole_word(run_publish_tasks, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    routes = {("POST", "/rest/posts"): [Reply(201, {"x-restli-id": "urn:li:share:7260000000000000001"}, b"")]}
    with ReplayServer(routes) as server:
        monkeypatch.setenv("SERVICEPULSE_LINKEDIN_TOKEN", "li-token")
        monkeypatch.setenv("SERVICEPULSE_LINKEDIN_ORGANIZATION", "urn:li:organization:5515715")
        monkeypatch.setenv("SERVICEPULSE_LINKEDIN_API_URL", server.url)
        target_set(network="linkedin", source=None, mode=CrossPostTarget.Mode.AUTO)
        publish_post(body=LONG_BODY)
        assert run_publish_tasks() == ["sent"]
        description = server.requests_to("/rest/posts")[0].json()["content"]["article"]["description"]
    assert len(description) <= 300 and description.endswith("…")
    cut = description.removesuffix("…")
    assert LONG_BODY.startswith(cut) and LONG_BODY[len(cut)] == " "


def test_rewording_a_copy_sent_since_the_page_was_opened_is_refused_not_saved(responder: Client) -> None:
    target_set(network="mastodon", source=mastodon_account("http://127.0.0.1:9"))
    post = publish_post()
    copy = CrossPost.objects.get(post=post)
    crosspost_transition(crosspost=copy, to=CrossPostState.SCHEDULED)
    crosspost_transition(crosspost=copy, to=CrossPostState.SENT, remote_id="1", sent_text=copy.text)
    response = responder.post(
        page_of(post), {"action": "save", "crosspost": copy.pk, "text": "A better wording."}, follow=True
    )
    page = response.content.decode()
    assert "only a copy not yet sent can be reworded" in page and "Saved." not in page
    copy.refresh_from_db()
    assert copy.text == copy.sent_text != "A better wording."


@pytest.mark.django_db(transaction=True)
def test_a_copy_being_sent_is_not_sent_again_by_another_worker() -> None:
    from django.db import connection

    from servicepulse.publish.crosspost import crosspost_send, crossposts_send_due

    seen: list[str] = []

    def mastodon_answers(request):  # type: ignore[no-untyped-def]
        # While the first worker waits for Mastodon's answer, a second worker runs the duplicate task of a
        # double "Send now", and the scheduler's safety net finds the copy overdue.
        if not seen:
            seen.append("first")
            try:
                copy = CrossPost.objects.get()
                seen.append(crosspost_send(crosspost_id=copy.pk).state)  # type: ignore[union-attr]
                seen.append(str(crossposts_send_due(now=timezone.now() + timedelta(minutes=3))))
            finally:
                connection.close()  # this thread's own connection
        return Reply(200, body=fixture("mastodon_status_post.json"))

    with ReplayServer({("POST", "/api/v1/statuses"): [mastodon_answers]}) as server:
        target_set(network="mastodon", source=mastodon_account(server.url))
        post = publish_post()
        copy = CrossPost.objects.get(post=post)
        crosspost_schedule(crosspost=copy)
        assert crosspost_send(crosspost_id=copy.pk).state == CrossPostState.SENT  # type: ignore[union-attr]
        assert len(server.requests_to("/api/v1/statuses")) == 1, seen
    assert seen == ["first", CrossPostState.SCHEDULED, "[]"]  # both left it to the first worker
    copy.refresh_from_db()
    assert copy.attempts == 1 and copy.claimed_until is None


def test_linkedin_gets_the_text_escaped_so_it_is_not_cut_at_a_parenthesis(
    run_publish_tasks, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    routes = {("POST", "/rest/posts"): [Reply(201, {"x-restli-id": "urn:li:share:7260000000000000001"}, b"")]}
    with ReplayServer(routes) as server:
        monkeypatch.setenv("SERVICEPULSE_LINKEDIN_TOKEN", "li-token")
        monkeypatch.setenv("SERVICEPULSE_LINKEDIN_ORGANIZATION", "urn:li:organization:5515715")
        monkeypatch.setenv("SERVICEPULSE_LINKEDIN_API_URL", server.url)
        target_set(network="linkedin", source=None)
        post = publish_post()
        copy = CrossPost.objects.get(post=post)
        with TestCase.captureOnCommitCallbacks(execute=True):
            crosspost_edit_text(
                crosspost=copy,
                text="Moodle (VLE) is read-only [22-29 Dec]; ask @servicedesk, #ITServices or see "
                "https://status.example.ac.uk/x_(y)#now",
            )
            crosspost_schedule(crosspost=copy)
        assert run_publish_tasks() == ["sent"]
        commentary = server.requests_to("/rest/posts")[0].json()["commentary"]
    # Reserved characters escaped as plain text (LinkedIn stops at the first one left bare); the hashtag and
    # the link are kept as they are, so they still link.
    assert commentary == (
        r"Moodle \(VLE\) is read-only \[22-29 Dec\]; ask \@servicedesk, #ITServices or see "
        "https://status.example.ac.uk/x_(y)#now"
    )
