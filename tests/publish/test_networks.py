"""Reddit (praw), a Facebook Page (Graph API) and LinkedIn (Posts API over httpx) copies, against loopback
replay servers with responses shaped as those APIs document them."""

from __future__ import annotations

import pytest
from django.test import TestCase

from servicepulse.blog.services import post_unpublish, post_update
from servicepulse.publish.crosspost import TargetError, target_set
from servicepulse.publish.models import CrossPost, CrossPostState, CrossPostTarget
from servicepulse.sources.services import source_create
from tests.publish.conftest import fixture
from tests.publish.test_crosspost import AUTO, publish_post
from tests.replay import ReplayServer, Reply

pytestmark = pytest.mark.django_db
PAGE = "104857600000001"
FB_POST = f"{PAGE}_987654321099999"
LINK = "http://127.0.0.1:8000/blog/posts/moodle-upgrade-over-the-break/"


def test_reddit_link_post_to_the_chosen_subreddit_then_deleted(run_publish_tasks) -> None:  # type: ignore[no-untyped-def]
    routes = {
        ("POST", "/api/v1/access_token"): [Reply(200, body={
            "access_token": "reddit-token", "token_type": "bearer", "expires_in": 86400, "scope": "*"})],
        ("POST", "/api/submit/"): [Reply(200, body=fixture("reddit_api_submit.json"))],
        ("POST", "/api/del/"): [Reply(200, body=fixture("reddit_api_del.json"))],
    }  # fmt: skip
    with ReplayServer(routes) as server:
        account = source_create(
            kind="reddit", name="u/NorthfieldIT",
            options={"subreddits": "northfielduni", "client_id": "app-id", "client_secret": "app-secret",
                     "username": "NorthfieldIT", "password": "hunter2", "oauth_url": server.url,
                     "reddit_url": server.url},
        )  # fmt: skip
        target_set(network="reddit", source=account, mode=AUTO, options={"subreddit": "r/northfielduni"})
        post = publish_post()
        assert run_publish_tasks() == ["sent"], CrossPost.objects.get().error
        form = server.requests_to("/api/submit/")[0].form()
        assert form["sr"] == ["northfielduni"] and form["kind"] == ["link"] and form["url"] == [LINK]
        assert form["title"] == ["Moodle upgrade over the break"]
        copy = CrossPost.objects.get(post=post)
        assert (
            copy.remote_id == "t3_1h0copy" and copy.remote_url == "https://www.reddit.com/comments/1h0copy/"
        )

        server.add("GET", "/api/info/", Reply(200, body=fixture("reddit_api_info.json")))
        from servicepulse.publish.crosspost import crosspost_counts_refresh

        assert crosspost_counts_refresh() == 1
        assert server.requests_to("/api/info/")[0].full_path.endswith("id=t3_1h0copy&raw_json=1")
        copy.refresh_from_db()
        assert (copy.likes, copy.replies) == (42, 5)  # Reddit's score stands for likes

        with TestCase.captureOnCommitCallbacks(execute=True):
            post_update(post=post, title="Moodle upgrade over the winter break")
        copy.refresh_from_db()
        assert "does not allow editing" in copy.note  # link posts cannot be edited: said on the copy

        with TestCase.captureOnCommitCallbacks(execute=True):
            post_unpublish(post=post)
        assert run_publish_tasks() == ["deleted"]
        assert server.requests_to("/api/del/")[0].form()["id"] == ["t3_1h0copy"]


def test_reddit_without_a_subreddit_fails_clearly(run_publish_tasks) -> None:  # type: ignore[no-untyped-def]
    account = source_create(
        kind="reddit", name="u/NorthfieldIT",
        options={"subreddits": "northfielduni", "client_id": "a", "client_secret": "b", "username": "c",
                 "password": "d", "oauth_url": "http://127.0.0.1:9", "reddit_url": "http://127.0.0.1:9"},
    )  # fmt: skip
    with pytest.raises(TargetError, match="subreddit"):  # refused now (see test_crosspost_forms.py)
        target_set(network="reddit", source=account, mode=AUTO)
    # An account enabled before subreddits were checked still fails clearly when a post is sent.
    CrossPostTarget.objects.create(network="reddit", source=account, mode=AUTO)
    post = publish_post()
    assert run_publish_tasks() == ["failed"]
    assert "no subreddit set" in CrossPost.objects.get(post=post).error


def test_facebook_page_post_edit_and_refusal(run_publish_tasks) -> None:  # type: ignore[no-untyped-def]
    routes = {
        ("POST", f"/v23.0/{PAGE}/feed"): [Reply(200, body=fixture("facebook_feed_post.json"))],
        ("POST", f"/v23.0/{FB_POST}"): [
            Reply(200, body=fixture("facebook_success.json")),
            Reply(403, body=fixture("facebook_error_permission.json")),
        ],
    }
    with ReplayServer(routes) as server:
        account = source_create(
            kind="facebook", name="Northfield IT Page",
            options={"page_id": PAGE, "page_access_token": "EAAG-page-token", "app_secret": "s3cret",
                     "verify_token": "v", "api_base_url": server.url},
        )  # fmt: skip
        target_set(network="facebook", source=account, mode=AUTO)
        post = publish_post()
        assert run_publish_tasks() == ["sent"]
        created = server.requests_to(f"/v23.0/{PAGE}/feed")[0]
        assert created.form()["link"] == [LINK]
        assert "access_token=EAAG-page-token" in created.full_path and "appsecret_proof=" in created.full_path
        copy = CrossPost.objects.get(post=post)
        assert copy.remote_id == FB_POST and copy.remote_url == f"https://www.facebook.com/{FB_POST}"

        with TestCase.captureOnCommitCallbacks(execute=True):
            post_update(post=post, title="Moodle upgrade over the winter break")
        assert run_publish_tasks() == ["sent"]
        assert (
            server.requests_to(f"/v23.0/{FB_POST}")[0]
            .form()["message"][0]
            .startswith("Moodle upgrade over the winter")
        )

        with TestCase.captureOnCommitCallbacks(execute=True):
            post_update(post=post, title="Moodle upgrade: the dates")
        run_publish_tasks()
        copy.refresh_from_db()
        assert "editing the copy failed" in copy.note and "(#200)" in copy.note  # the Page's own refusal
        assert copy.state == CrossPostState.SENT


def test_linkedin_organisation_post_only_when_configured(run_publish_tasks, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    routes = {
        ("POST", "/rest/posts"): [
            Reply(422, body=fixture("linkedin_error_422.json")),
            Reply(201, {"x-restli-id": "urn:li:share:7260000000000000001"}, b""),
        ],
        ("DELETE", "/rest/posts/urn%3Ali%3Ashare%3A7260000000000000001"): [Reply(204)],
    }
    with ReplayServer(routes) as server:
        target_set(network="linkedin", source=None, mode=AUTO)
        from servicepulse.blog.services import post_create, post_publish

        with TestCase.captureOnCommitCallbacks(execute=True):
            post_publish(post=post_create(title="Not configured yet", body_markdown="x", author=None))
        assert not CrossPost.objects.exists()  # no token: LinkedIn is not offered

        monkeypatch.setenv("SERVICEPULSE_LINKEDIN_TOKEN", "li-token")
        monkeypatch.setenv("SERVICEPULSE_LINKEDIN_ORGANIZATION", "urn:li:organization:5515715")
        monkeypatch.setenv("SERVICEPULSE_LINKEDIN_API_URL", server.url)
        post = publish_post()
        assert run_publish_tasks() == ["failed"]
        copy = CrossPost.objects.get(post=post)
        assert "HTTP 422" in copy.error and "/commentary :: is too long" in copy.error
        from servicepulse.publish.crosspost import crosspost_retry

        with TestCase.captureOnCommitCallbacks(execute=True):
            crosspost_retry(crosspost=copy)
        assert run_publish_tasks() == ["sent"]
        request = server.requests_to("/rest/posts")[-1]
        assert request.headers["Authorization"] == "Bearer li-token"
        assert request.headers["LinkedIn-Version"] and request.headers["X-Restli-Protocol-Version"] == "2.0.0"
        body = request.json()
        assert (
            body["author"] == "urn:li:organization:5515715" and body["content"]["article"]["source"] == LINK
        )
        copy.refresh_from_db()
        assert copy.remote_url == "https://www.linkedin.com/feed/update/urn:li:share:7260000000000000001/"

        with TestCase.captureOnCommitCallbacks(execute=True):
            post_unpublish(post=post)
        assert run_publish_tasks() == ["deleted"]
