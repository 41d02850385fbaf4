"""`servicepulse erase-author` finds a person's quarantined input whatever file it came from (JSON Lines,
CSV, TSV), keeps other people's input that only mentions the name, and refuses clearly without a terminal."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from servicepulse.mentions.models import Mention, Quarantine
from servicepulse.sources.connectors.file_import.importer import import_file
from tests.factories import MentionFactory

pytestmark = pytest.mark.django_db(transaction=True)

AT = "2025-03-01T10:00:00Z"


def quarantined_raws() -> set[str]:
    return set(Quarantine.objects.values_list("raw", flat=True))


def test_erase_author_removes_their_quarantined_csv_rows_only(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    theirs = [
        f"1,a,{AT[:-1]},bob",  # no UTC offset
        f"2,,{AT},bob",  # empty text
        f"3,shifted, one cell too many,{AT},bob",  # the author is not in the author column any more
        '4,"two\nlines",2025-13-01T00:00:00Z,bob',  # a record over two lines
    ]
    others = [
        f"5,,{AT},bobby",
        f"6,,{AT}, alice",
        f'7,"tell ""bob"" the wifi is down",{AT[:-1]},carol',  # only mentions him
        f"8,bob is my manager,{AT[:-1]},dan",
    ]
    path.write_text("id,text,created_at,author\n" + "\n".join(theirs + others) + "\n", encoding="utf-8")
    tsv = tmp_path / "f.tsv"
    tsv.write_text(f"id\ttext\tcreated_at\tauthor\n9\t\t{AT}\tbob\n10\t\t{AT}\tbobby\n", encoding="utf-8")
    import_file(path=path, source_name="csv")
    import_file(path=tsv, source_name="tsv")
    assert quarantined_raws() == {*theirs, *others, f"9\t\t{AT}\tbob", f"10\t\t{AT}\tbobby"}

    call_command("erase_author", "bob", yes=True)

    assert quarantined_raws() == {*others, f"10\t\t{AT}\tbobby"}


def test_erase_author_matches_json_values_exactly_even_when_escaped(tmp_path: Path) -> None:
    lines = {
        "theirs, plain": json.dumps(
            {"id": "1", "author": "zoë", "text": 5, "created_at": AT}, ensure_ascii=False
        ),
        "theirs, escaped": json.dumps({"id": "2", "author": "zoë", "text": 5, "created_at": AT}),
        "theirs, nested": json.dumps({"id": "3", "user": {"name": "zoë"}, "created_at": AT}),
        "theirs, broken JSON": '{"id": "4", "author": "zoë", "text": "cut of',
        "another's, quoting her": json.dumps(
            {"id": "5", "author": "al", "text": 'ask "zoë"', "created_at": AT[:-1]}
        ),
        "another's, similar name": json.dumps({"id": "6", "author": "zoë2", "text": 5, "created_at": AT}),
    }
    path = tmp_path / "f.jsonl"
    path.write_text("\n".join(lines.values()) + "\n", encoding="utf-8")
    import_file(path=path, source_name="jsonl")
    assert quarantined_raws() == set(lines.values())

    call_command("erase_author", "zoë", yes=True)

    assert quarantined_raws() == {lines["another's, quoting her"], lines["another's, similar name"]}


def test_erase_author_without_yes_and_without_a_terminal_says_to_pass_yes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    MentionFactory(author="bob")
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # what `< /dev/null` gives input()
    with pytest.raises(
        CommandError, match=r"^nothing erased: no answer to confirm with; pass --yes to erase$"
    ):
        call_command("erase_author", "bob")
    assert Mention.objects.filter(author="bob").exists()


def test_erase_author_asks_and_erases_on_yes(monkeypatch: pytest.MonkeyPatch) -> None:
    MentionFactory(author="bob")
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    call_command("erase_author", "bob")
    assert not Mention.objects.exists()
