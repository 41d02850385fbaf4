"""`servicepulse export-author`: everything held about one person, for a subject access request."""

from __future__ import annotations

import io
import json
import stat
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from servicepulse.analysis.services import analysis_save, correction_create
from servicepulse.engage.services import case_note_add, case_open, case_record_reply
from servicepulse.mentions.models import Mention
from servicepulse.mentions.services import quarantine_add
from tests.factories import MentionFactory, ServiceFactory, SourceFactory

pytestmark = pytest.mark.django_db


def exported(*args: str, **options: Any) -> dict[str, Any]:
    out = io.StringIO()
    call_command("export_author", *args, stdout=out, **options)
    data: dict[str, Any] = json.loads(out.getvalue())
    return data


def test_export_author_holds_their_posts_with_what_hangs_off_them_and_nothing_of_others() -> None:
    service = ServiceFactory(id="vle", name="VLE")
    source = SourceFactory(name="fb")
    post = MentionFactory(
        source=source,
        author="Sam K",
        author_id="fb:42",
        text="moodle is down again",
        raw={"from": {"id": "42"}},
    )
    by_id = MentionFactory(source=source, author="", author_id="Sam K", text="still down")
    other = MentionFactory(source=source, author="Alex", text="wifi in the library is slow")
    for mention in (post, by_id, other):
        analysis_save(
            mention=mention,
            complaint=True,
            complaint_score=0.9,
            sentiment="negative",
            sentiment_score=-0.7,
            spam=False,
            spam_score=0.0,
            services=[(service.id, 0.9)],
        )
    correction_create(mention=post, field="spam", value=False)
    case = case_open(mention=post)
    case_note_add(case=case, actor=None, text="called Sam back")
    case_record_reply(case=case, text="Answered at the desk", actor=None)
    case_open(mention=other)
    quarantine_add(source=source, raw='{"author": "Sam K", "text": 5}', reason="text must be a string")
    quarantine_add(source=source, raw='{"author": "Alex", "text": 5}', reason="text must be a string")

    held = exported("Sam K")

    assert held["author"] == "Sam K"
    assert sorted(p["text"] for p in held["posts"]) == sorted([post.text, by_id.text])
    first = next(p for p in held["posts"] if p["text"] == post.text)
    assert first["raw"] == {"from": {"id": "42"}}
    assert first["author_id"] == "fb:42" and first["source"] == "fb"
    linked = first["linked"]
    assert linked["analysis.MentionAnalysis"][0]["sentiment"] == "negative"
    assert linked["analysis.MentionAnalysis"][0]["linked"]["analysis.ServiceTag"][0]["service"] == "vle"
    assert [c["field"] for c in linked["analysis.Correction"]] == ["spam"]
    [exported_case] = linked["engage.Case"]
    texts = {a["text"] for a in exported_case["linked"]["engage.CaseActivity"]}
    assert "called Sam back" in texts
    assert [r["text"] for r in exported_case["linked"]["engage.Reply"]] == ["Answered at the desk"]
    assert [q["raw"] for q in held["quarantined"]] == ['{"author": "Sam K", "text": 5}']
    assert "Alex" not in json.dumps(held) and other.text not in json.dumps(held)


def test_export_author_to_a_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    MentionFactory(author="Sam K")
    target = tmp_path / "sam.json"

    call_command("export_author", "Sam K", output=str(target))

    assert len(json.loads(target.read_text(encoding="utf-8"))["posts"]) == 1
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_export_author_limited_to_a_source() -> None:
    MentionFactory(source=SourceFactory(name="fb"), author="Sam K")
    MentionFactory(source=SourceFactory(name="reddit"), author="Sam K")

    held = exported("Sam K", source="reddit")

    assert [p["source"] for p in held["posts"]] == ["reddit"]
    with pytest.raises(CommandError, match="no source named 'nope'"):
        exported("Sam K", source="nope")


def test_export_and_erase_of_an_unknown_spelling_name_the_stored_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    MentionFactory(author="@Sam_K@mastodon.social")

    call_command("export_author", "sam_k@mastodon.social", stdout=io.StringIO())
    assert "stored with another spelling: '@Sam_K@mastodon.social'" in capsys.readouterr().err

    with pytest.raises(CommandError, match=r"stored with another spelling: '@Sam_K@mastodon\.social'"):
        call_command("erase_author", "sam_k@mastodon.social", yes=True, stdout=io.StringIO())
    assert Mention.objects.filter(author="@Sam_K@mastodon.social").exists()


def test_erase_author_matching_nothing_asks_nothing_names_the_stored_spelling_and_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # It asked "Erase 0 posts by 'jane doe' ...? [y/N]", then on yes printed "erased 0 posts" and exited 0, the
    # hint about the stored spelling last.
    MentionFactory(author="Jane Doe")
    asked: list[str] = []
    monkeypatch.setattr("builtins.input", lambda prompt="": asked.append(prompt) or "y")
    out = io.StringIO()
    for options in ({}, {"yes": True}):
        with pytest.raises(
            CommandError,
            match=r"^nothing erased: no posts by 'jane doe'; stored with another spelling: 'Jane Doe'$",
        ):
            call_command("erase_author", "jane doe", stdout=out, **options)
    assert asked == []
    assert out.getvalue() == ""
    with pytest.raises(
        CommandError, match=r"^nothing erased: no posts by 'nobody' \(names and ids are matched"
    ):
        call_command("erase_author", "nobody", yes=True, stdout=out)

    call_command("erase_author", "Jane Doe", stdout=out)  # the stored spelling: asked, then erased
    assert asked == ["Erase 1 posts by 'Jane Doe' and everything linked to them? [y/N] "]
    assert not Mention.objects.exists()


def test_export_author_lists_their_reply_opt_outs_which_erasure_keeps() -> None:
    from servicepulse.engage.services import optout_add

    fb, reddit = SourceFactory(name="fb"), SourceFactory(name="reddit")
    theirs = MentionFactory(source=fb, author="Sam K", author_id="fb:42", text="stop")
    optout_add(mention=theirs, reason="asked us to stop")
    optout_add(mention=MentionFactory(source=reddit, author="Alex", text="stop"), reason="Alex asked")

    held = exported("Sam K")

    assert [(o["source"], o["reason"]) for o in held["elsewhere"]["reply opt-outs"]] == [
        ("fb", "asked us to stop")
    ]
    assert exported("Sam K", source="reddit")["elsewhere"]["reply opt-outs"] == []
