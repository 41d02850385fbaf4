"""A source's own page: where the platform or the web page reaches it (webhook address, widget snippet), its
options and their change (a rotated token), and the input it quarantined, with the reason, which an admin
may discard. The `servicepulse sources set|quarantine` commands do the same from a terminal."""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import re
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from servicepulse.mentions.models import Mention, Quarantine
from servicepulse.mentions.services import quarantine_add
from servicepulse.sources.models import Source
from servicepulse.sources.services import source_create


def _text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def _field(page: str, name: str) -> str:
    """The `.field` block of the form field `name`."""
    match = re.search(
        rf'<div class="field[^"]*">\s*<label for="id_{name}".*?</div>\s*(?=<div class="field|</fieldset)',
        page,
        re.S,
    )
    assert match is not None, f"no field {name}"
    return match.group(0)


@pytest.fixture
def imported(db: Any) -> Source:
    source = source_create(kind="import", name="spring survey")
    quarantine_add(
        source=source, raw='{"id": "a2", "text": "broken', reason="not valid JSON", position="line 2"
    )
    quarantine_add(source=source, raw='{"id": "a3", "text": ""}', reason="text is empty", position="line 3")
    return source


@pytest.mark.django_db
def test_quarantined_input_is_listed_with_its_reason_for_everyone_and_only_admins_discard_it(
    imported: Source, clients: dict[str, Client]
) -> None:
    listing = clients["viewer"].get("/sources/").content.decode()
    assert f'href="/sources/{imported.pk}/#quarantine">2 quarantined</a>' in listing

    page = clients["viewer"].get(f"/sources/{imported.pk}/").content.decode()
    text = _text(page)
    assert "line 2 not valid JSON" in text and '{"id": "a2", "text": "broken' in text
    assert "line 3 text is empty" in text
    assert "Discard" not in text  # a viewer reads, an admin acts
    assert clients["viewer"].post(f"/sources/{imported.pk}/quarantine/discard/").status_code == 403
    assert clients["responder"].post(f"/sources/{imported.pk}/quarantine/discard/").status_code == 403

    admin = clients["admin"]
    assert "Discard all 2 quarantined rows" in _text(admin.get(f"/sources/{imported.pk}/").content.decode())
    one = Quarantine.objects.get(position="line 2")
    response = admin.post(f"/sources/{imported.pk}/quarantine/discard/", {"row": one.pk}, follow=True)
    assert "Discarded 1 quarantined row of spring survey." in _text(response.content.decode())
    assert list(Quarantine.objects.values_list("position", flat=True)) == ["line 3"]
    for malformed in ("not a number", "²"):  # "²".isdigit() is true, but it is no number
        assert (
            admin.post(f"/sources/{imported.pk}/quarantine/discard/", {"row": malformed}).status_code == 302
        )
    assert Quarantine.objects.count() == 1  # a malformed row id discards nothing, not everything
    admin.post(f"/sources/{imported.pk}/quarantine/discard/")
    assert not Quarantine.objects.exists()
    assert "Nothing quarantined" in _text(admin.get(f"/sources/{imported.pk}/").content.decode())


@pytest.mark.django_db
def test_a_widget_source_shows_the_snippet_to_embed_with_its_real_address(
    clients: dict[str, Client], settings: Any
) -> None:
    settings.BASE_URL = "https://pulse.example.ac.uk"
    source = source_create(
        kind="widget", name="IT / Portal #1", options={"allowed_origins": "https://portal.example.ac.uk"}
    )
    page = clients["viewer"].get(f"/sources/{source.pk}/").content.decode()
    script = "https://pulse.example.ac.uk/sources/widget/IT%20/%20Portal%20%231/embed.js"
    assert f"&lt;script src=&quot;{script}&quot; async&gt;&lt;/script&gt;" in page
    assert "Pages on https://portal.example.ac.uk may use it" in _text(page)
    # The address works, though the name holds a slash, spaces and a '#'.
    response = clients["viewer"].get(urlsplit(script).path)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/javascript")
    session = Client().get(urlsplit(script).path.replace("embed.js", "session/"))
    assert session.status_code == 200 and "token" in session.json()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "lang", "named"),
    [
        ("en", "en", "English"),
        ("cy", "cy", "Welsh (Cymraeg)"),
        ("both", "cy", "Welsh and English, Welsh first"),
    ],
)
def test_a_widget_source_says_its_language_and_its_snippet_carries_it(
    clients: dict[str, Client], language: str, lang: str, named: str
) -> None:
    source = source_create(kind="widget", name="porth", options={"language": language})
    page = clients["admin"].get(f"/sources/{source.pk}/").content.decode()
    assert f"&lt;div id=&quot;servicepulse-report&quot; lang=&quot;{lang}&quot;&gt;&lt;/div&gt;" in page
    assert f"The form speaks {named} (the language option: en, cy or both;" in _text(page)


@pytest.mark.django_db
def test_a_webhook_source_shows_the_address_to_give_the_platform_and_it_takes_deliveries(
    clients: dict[str, Client], settings: Any
) -> None:
    settings.BASE_URL = "https://pulse.example.ac.uk"
    source = source_create(
        kind="slack", name="IT / Slack #help", options={"channels": "C1", "signing_secret": "s3cret"}
    )
    page = clients["viewer"].get(f"/sources/{source.pk}/").content.decode()
    hook = "https://pulse.example.ac.uk/sources/hooks/IT%20/%20Slack%20%23help/"
    assert f"<code>{hook}</code>" in page
    assert "s3cret" not in page and "signing_secret" in page  # secrets only as set or not

    body = json.dumps(
        {
            "type": "event_callback",
            "event_id": "Ev1",
            "event": {
                "type": "message",
                "channel": "C1",
                "user": "U1",
                "text": "wifi down",
                "ts": "1.000100",
            },
        }
    ).encode()
    stamp = str(int(time.time()))
    signature = "v0=" + hmac.new(b"s3cret", b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    response = Client().post(
        urlsplit(hook).path,
        data=body,
        content_type="application/json",
        HTTP_X_SLACK_REQUEST_TIMESTAMP=stamp,
        HTTP_X_SLACK_SIGNATURE=signature,
    )
    assert response.status_code == 200, response.content
    assert Mention.objects.filter(source=source).count() == 1


@pytest.mark.django_db
def test_an_admin_changes_options_keeping_secrets_left_empty_and_errors_show_beside_the_field(
    clients: dict[str, Client],
) -> None:
    source = source_create(
        kind="slack", name="staff", options={"channels": "C1", "signing_secret": "old", "bot_token": "xoxb-1"}
    )
    # Failing for a while (a revoked token): the next try is hours away.
    Source.objects.filter(pk=source.pk).update(
        consecutive_failures=9, next_try_at=timezone.now() + timedelta(hours=6)
    )
    assert clients["responder"].get(f"/sources/{source.pk}/edit/").status_code == 403
    admin = clients["admin"]
    form = admin.get(f"/sources/{source.pk}/edit/").content.decode()
    assert "xoxb-1" not in form and "old" not in _field(form, "option_signing_secret")
    assert "set: leave empty to keep it" in _field(form, "option_signing_secret")

    bad = admin.post(
        f"/sources/{source.pk}/edit/",
        {"option_channels": "C1,C2", "option_max_pages": "0", "option_signing_secret": ""},
    )
    assert bad.status_code == 200
    page = bad.content.decode()
    assert "has-error" in _field(page, "option_max_pages") and "Must be between 1 and 1000" in _field(
        page, "option_max_pages"
    )
    assert 'value="C1,C2"' in _field(page, "option_channels")  # what was typed is kept

    saved = admin.post(
        f"/sources/{source.pk}/edit/",
        {"option_channels": "C1,C2", "option_signing_secret": "", "option_bot_token": "xoxb-2"},
    )
    assert saved.status_code == 302 and saved["Location"] == f"/sources/{source.pk}/"
    source.refresh_from_db()
    assert source.options["channels"] == "C1,C2"
    assert source.secrets == {"signing_secret": "old", "bot_token": "xoxb-2"}
    assert source.next_try_at is None  # the new token is tried at the next tick, not after the back-off


@pytest.mark.django_db
def test_add_puts_an_option_error_beside_its_field_and_offers_x_queries_one_per_line(
    clients: dict[str, Client],
) -> None:
    admin = clients["admin"]
    form = admin.get("/sources/add/", {"kind": "x"}).content.decode()
    assert re.search(r'<textarea name="option_queries"', form)
    response = admin.post(
        "/sources/add/",
        {
            "name": "X search",
            "kind": "x",
            "option_queries": "eduroam down\nmoodle outage",
            "option_bearer_token": "tok",
            "option_max_results": "5",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200 and not Source.objects.filter(name="X search").exists()
    assert "Must be between 10 and 100" in _field(page, "option_max_results")
    assert "has-error" in _field(page, "option_max_results")
    response = admin.post(
        "/sources/add/",
        {
            "name": "X search",
            "kind": "x",
            "option_queries": "eduroam down\nmoodle outage",
            "option_bearer_token": "t",
        },
    )
    source = Source.objects.get(name="X search")
    assert response["Location"] == f"/sources/{source.pk}/"
    assert source.options["queries"] == "eduroam down\nmoodle outage"


@pytest.mark.django_db
def test_the_command_changes_options_and_lists_and_discards_quarantine(
    imported: Source, capsys: pytest.CaptureFixture[str]
) -> None:
    rss = source_create(kind="rss", name="feed", options={"url": "https://example.org/feed"})
    cursor = {"etag": '"v1"', "last_modified": "Fri, 27 Nov 2026 09:00:00 GMT"}
    Source.objects.filter(pk=rss.pk).update(cursor=cursor)
    call_command("sources", "set", "feed", "--option", "url=https://example.org/feed")
    rss.refresh_from_db()
    assert rss.cursor == cursor  # the same feed goes on from where it was
    call_command("sources", "set", "feed", "--option", "url=https://example.org/other")
    rss.refresh_from_db()
    assert rss.options["url"] == "https://example.org/other"
    assert rss.cursor == {}  # the old feed's validators would make the new one answer 304 Not Modified
    assert capsys.readouterr().out.count("updated rss source 'feed': url") == 2

    call_command("sources", "quarantine", "spring survey", "--json")
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {(row["position"], row["reason"]) for row in rows} == {
        ("line 2", "not valid JSON"),
        ("line 3", "text is empty"),
    }
    call_command("sources", "quarantine", "spring survey", "--discard")
    assert "discarded 2 quarantined row(s)" in capsys.readouterr().out
    assert not Quarantine.objects.exists()


@pytest.mark.django_db
def test_a_demo_source_page_says_it_was_never_pulled_as_the_sources_list_does(
    clients: dict[str, Client],
) -> None:
    from tests.factories import SourceFactory

    last = timezone.now() - timedelta(minutes=43)
    demo = SourceFactory(
        name="r/NorthgateUni (Reddit)",
        kind="reddit",
        enabled=False,
        options={"demo": True, "seed": 1},
        last_success_at=last,
    )
    paused = SourceFactory(name="r/paused", kind="reddit", enabled=False, last_success_at=last)
    page = _text(clients["viewer"].get(f"/sources/{demo.pk}/").content.decode())
    # It said "Last success 43 minutes ago" while the list said "not pulled": the time is the newest demo post's.
    assert "Last success not pulled (newest demo post 43 minutes ago" in page
    # "Reddit — Reddit: new posts ..." named the kind twice.
    assert "Reddit — Reddit" not in page and "Reddit: new posts and comments" in page
    page = _text(clients["viewer"].get(f"/sources/{paused.pk}/").content.decode())
    assert "43 minutes ago (before it was paused)" in page
