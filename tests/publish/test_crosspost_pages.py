"""The accounts page (admin) enables cross-posting per connected account; the preview page (responder)
schedules, discards and drafts copies; the blog post shows where it was cross-posted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import TestCase
from django.utils import timezone

from servicepulse.publish.models import CrossPost, CrossPostState, CrossPostTarget
from tests.publish.test_crosspost import mastodon_account, publish_post

pytestmark = pytest.mark.django_db


def test_accounts_page_enables_an_account(client, users) -> None:  # type: ignore[no-untyped-def]
    account = mastodon_account("http://127.0.0.1:9")
    client.force_login(users["responder"])
    assert client.get("/publish/accounts/").status_code == 403
    client.force_login(users["admin"])
    page = client.get("/publish/accounts/").content.decode()
    assert account.name in page and "500 characters" in page and "Not configured." in page  # LinkedIn
    response = client.post(
        "/publish/accounts/", {"network": "mastodon", "source": account.pk, "enabled": "on", "mode": "auto"}
    )
    assert response.status_code == 302
    target = CrossPostTarget.objects.get(source=account)
    assert target.enabled and target.mode == CrossPostTarget.Mode.AUTO
    client.post("/publish/accounts/", {"network": "mastodon", "source": account.pk, "mode": "review"})
    target.refresh_from_db()
    assert not target.enabled


def test_preview_schedules_discards_and_drafts_late_accounts(client, users) -> None:  # type: ignore[no-untyped-def]
    from servicepulse.publish.crosspost import target_set

    post = publish_post()  # no account enabled yet: no copy
    assert not CrossPost.objects.exists()
    target_set(network="mastodon", source=mastodon_account("http://127.0.0.1:9"))
    client.force_login(users["responder"])
    page = client.get(f"/publish/posts/{post.slug}/").content.decode()
    assert "Draft copies for the accounts added since" in page
    client.post(f"/publish/posts/{post.slug}/", {"action": "draft"})
    copy = CrossPost.objects.get(post=post)

    later = (timezone.localtime() + timedelta(days=1)).replace(microsecond=0, second=0)
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post(
            f"/publish/posts/{post.slug}/",
            {"action": "schedule", "crosspost": copy.pk, "send_at": later.strftime("%Y-%m-%dT%H:%M")},
        )
    copy.refresh_from_db()
    assert copy.state == CrossPostState.SCHEDULED and copy.send_at == later
    from django_tasks_db.models import DBTaskResult

    queued = DBTaskResult.objects.get(task_path__endswith="crosspost_send_task")
    assert queued.run_after == later

    client.post(f"/publish/posts/{post.slug}/", {"action": "discard", "crosspost": copy.pk})
    copy.refresh_from_db()
    assert copy.state == CrossPostState.DELETED
    response = client.post(
        f"/publish/posts/{post.slug}/", {"action": "retry", "crosspost": copy.pk}, follow=True
    )
    assert "only a failed copy is retried" in response.content.decode()


def test_blog_post_links_staff_to_its_cross_posting(client, users) -> None:  # type: ignore[no-untyped-def]
    post = publish_post()
    assert "Cross-posting of this post" not in client.get(post.get_absolute_url()).content.decode()
    client.force_login(users["responder"])
    page = client.get(post.get_absolute_url()).content.decode()
    assert f'href="/publish/posts/{post.slug}/">Cross-posting of this post' in page


def test_crosspost_account_command(capsys) -> None:  # type: ignore[no-untyped-def]
    import json

    from django.core.management import CommandError, call_command

    account = mastodon_account("http://127.0.0.1:9")
    call_command("crosspost_account", account.name, "--mode", "auto")
    assert json.loads(capsys.readouterr().out) == {
        "network": "mastodon", "account": account.name, "enabled": True, "mode": "auto"
    }  # fmt: skip
    call_command("crosspost_account", account.name, "--disable")
    assert not CrossPostTarget.objects.get(source=account).enabled
    with pytest.raises(CommandError, match="no source named"):
        call_command("crosspost_account", "nobody")
