"""Akismet, only when a key is configured, through the real `akismet` client over an httpx MockTransport that
answers as Akismet's API documents (verify-key: "valid"; comment-check: "true"/"false"; submit-spam/ham)."""

from __future__ import annotations

from urllib.parse import parse_qs

import httpx
import pytest

from servicepulse.blog import spam
from servicepulse.blog.models import CommentStatus, Decision
from servicepulse.blog.services import comment_submit, comments_moderate

pytestmark = pytest.mark.django_db


@pytest.fixture
def akismet_api(monkeypatch, settings):
    calls: list[tuple[str, dict[str, str]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        endpoint = request.url.path.rsplit("/", 1)[-1]
        calls.append((endpoint, form))
        if endpoint == "verify-key":
            return httpx.Response(200, text="valid")
        if endpoint == "comment-check":
            return httpx.Response(
                200, text="true" if "replica watches" in form.get("comment_content", "") else "false"
            )
        return httpx.Response(200, text="Thanks for making the web a better place.")

    monkeypatch.setattr(
        spam, "AKISMET_HTTP_CLIENT", lambda: httpx.Client(transport=httpx.MockTransport(handler))
    )
    settings.SERVICEPULSE_AKISMET_KEY = "test-key"
    return calls


def test_akismet_is_not_called_without_a_key(make_post, monkeypatch):
    def fail() -> None:
        raise AssertionError("Akismet must not be contacted without a key")

    monkeypatch.setattr(spam, "AKISMET_HTTP_CLIENT", fail)
    post = make_post()
    comment = comment_submit(post=post, body="replica watches", author_name="x", author_email="x@example.org")
    assert comment.status != CommentStatus.SPAM


def test_akismet_catches_spam_and_learns_from_moderators(make_post, akismet_api):
    post = make_post()
    spam_comment = comment_submit(
        post=post,
        body="Cheap replica watches",
        author_name="Bob",
        author_email="b@example.org",
        ip_address="192.0.2.5",
    )
    assert spam_comment.status == CommentStatus.SPAM and spam_comment.hold_reasons == ["akismet"]
    checks = [form for endpoint, form in akismet_api if endpoint == "comment-check"]
    assert checks[0]["comment_content"] == "Cheap replica watches" and checks[0]["user_ip"] == "192.0.2.5"
    ham = comment_submit(
        post=post, body="Thanks for the update", author_name="Ann", author_email="a@example.org"
    )
    assert ham.status == CommentStatus.PENDING  # first-time commenter, not spam
    comments_moderate(comment_ids=[ham.pk], decision=Decision.SPAM, moderator=None)
    comments_moderate(comment_ids=[spam_comment.pk], decision=Decision.APPROVED, moderator=None)
    reports = [endpoint for endpoint, _ in akismet_api if endpoint in {"submit-spam", "submit-ham"}]
    assert reports == ["submit-spam", "submit-ham"]
