"""`servicepulse import` with input that parses but that a database would refuse, files as spreadsheets
write them (byte-order mark, Latin-1, tabs, long fields, multi-line rows), unsafe links and empty files:
each bad record is quarantined with its reason, the records beside it are kept, nothing is counted that was
not stored, and a re-run adds nothing. Runs on SQLite and, in the PostgreSQL pass, on PostgreSQL."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from servicepulse.mentions.models import Mention, Quarantine
from servicepulse.sources.connectors.file_import.client import CSV_FIELD_LIMIT
from servicepulse.sources.connectors.file_import.importer import import_file
from servicepulse.sources.models import Source
from tests.sources.test_import import GOOD, write_lines

pytestmark = pytest.mark.django_db(transaction=True)

AT = "2025-03-01T10:00:00Z"

# Each line passes the old parser and then failed at write time, taking its whole batch with it.
WRITE_TIME_BAD = {
    "created_at past 9999 in UTC": (
        '{"id":"8","text":"ok","created_at":"9999-12-31T23:59:59-05:00"}',
        "out of range",
    ),
    "created_at before year 1 in UTC": (
        '{"id":"8","text":"ok","created_at":"0001-01-01T00:00:00+05:00"}',
        "out of range",
    ),
    "lone surrogate in text": (
        '{"id":"s1","text":"lone \\ud800 surrogate","created_at":"' + AT + '"}',
        "text holds a lone UTF-16 surrogate",
    ),
    "lone surrogate in author": (
        '{"id":"s2","text":"t","author":"a\\udc00","created_at":"' + AT + '"}',
        "author holds a lone UTF-16 surrogate",
    ),
    "lone surrogate nested in raw": (
        '{"id":"s3","text":"t","created_at":"' + AT + '","meta":{"tags":["ok","\\ud83d"]}}',
        "meta.tags[1] holds a lone UTF-16 surrogate",
    ),
    "lone surrogate in a field name": (
        '{"id":"s4","text":"t","created_at":"' + AT + '","\\ud800":1}',
        "a field name in the record holds a lone UTF-16 surrogate",
    ),
    "NaN": ('{"id":"n1","text":"t","created_at":"' + AT + '","score": NaN}', "NaN is not a JSON number"),
    "Infinity": (
        '{"id":"n2","text":"t","created_at":"' + AT + '","score": Infinity}',
        "Infinity is not a JSON number",
    ),
    "-Infinity nested": (
        '{"id":"n3","text":"t","created_at":"' + AT + '","m":[-Infinity]}',
        "-Infinity is not a JSON number",
    ),
    "number too large for a float": (
        '{"id":"n4","text":"t","created_at":"' + AT + '","score": 1e400}',
        "too large to store",
    ),
    "integer of 5000 digits": (
        '{"id":"n5","text":"t","created_at":"' + AT + '","score": ' + "7" * 5000 + "}",
        "not valid JSON",
    ),
    "nested deeper than the parser goes": ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    "id longer than its column": (
        json.dumps({"id": "i" * 256, "text": "t", "created_at": AT}),
        "id is 256 characters long, longer than the 255",
    ),
    "author longer than its column": (
        json.dumps({"id": "l1", "text": "t", "created_at": AT, "author": "a" * 256}),
        "author is 256 characters long",
    ),
    "in_reply_to longer than its column": (
        json.dumps({"id": "l2", "text": "t", "created_at": AT, "in_reply_to": "r" * 300}),
        "in_reply_to is 300 characters long",
    ),
    "lang longer than its column": (
        json.dumps({"id": "l3", "text": "t", "created_at": AT, "lang": "x" * 17}),
        "lang is 17 characters long, longer than the 16",
    ),
    "url longer than its column": (
        json.dumps({"id": "l4", "text": "t", "created_at": AT, "url": "https://e.org/" + "p" * 1000}),
        "url is 1014 characters long, longer than the 1000",
    ),
}


@pytest.mark.parametrize("case", sorted(WRITE_TIME_BAD))
def test_a_record_the_database_would_refuse_is_quarantined_and_its_batch_kept(
    tmp_path: Path, case: str
) -> None:
    bad, reason = WRITE_TIME_BAD[case]
    good2 = {**GOOD, "id": "a2"}
    path = write_lines(tmp_path / "feed.jsonl", [json.dumps(GOOD), bad, json.dumps(good2)])

    first = import_file(path=path, source_name="qa")
    second = import_file(path=path, source_name="qa")

    assert first.as_dict() == {"imported": 2, "duplicates": 0, "rejected": 1}
    assert second.as_dict() == {"imported": 0, "duplicates": 2, "rejected": 1}
    assert sorted(Mention.objects.values_list("external_id", flat=True)) == ["a1", "a2"]
    kept = Quarantine.objects.get()
    assert reason in kept.reason
    assert (kept.position, kept.raw) == ("line 2", bad)


def test_an_out_of_range_time_in_a_csv_row_is_quarantined(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text(
        f"id,text,created_at\n1,ok,{AT}\n2,late,9999-12-31T23:59:59-05:00\n3,fine,{AT}\n", encoding="utf-8"
    )
    assert import_file(path=path, source_name="csv").as_dict() == {
        "imported": 2,
        "duplicates": 0,
        "rejected": 1,
    }
    kept = Quarantine.objects.get()
    assert (kept.position, kept.raw) == ("line 3", "2,late,9999-12-31T23:59:59-05:00")
    assert "out of range" in kept.reason


def test_the_qa_file_imports_with_exit_1_and_no_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """QA's file: NaN and Infinity rows were counted as imported and never stored (SQLite), or failed the
    import on every re-run (PostgreSQL); the out-of-range and surrogate rows were a traceback."""
    path = write_lines(
        tmp_path / "qa.jsonl",
        [
            '{"id":"n1","text":"t","created_at":"' + AT + '","score": NaN}',
            '{"id":"n2","text":"t","created_at":"' + AT + '","score": Infinity}',
            '{"id":"8","text":"ok","created_at":"9999-12-31T23:59:59-05:00"}',
            '{"id":"s1","text":"lone \\ud800 surrogate","created_at":"' + AT + '"}',
            json.dumps({"id": "x" * 300, "text": "t", "created_at": AT}),
            json.dumps(GOOD),
        ],
    )
    for _ in range(2):
        with pytest.raises(SystemExit) as exit_info:
            call_command("import_mentions", str(path))
        assert exit_info.value.code == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert [json.loads(line) for line in out[-2:]] == [
        {"imported": 1, "duplicates": 0, "rejected": 5},
        {"imported": 0, "duplicates": 1, "rejected": 5},
    ]
    assert list(Mention.objects.values_list("external_id", flat=True)) == ["a1"]
    assert Quarantine.objects.count() == 5


@pytest.fixture
def refusing_database() -> Iterator[None]:
    """The database itself refuses the mention with id 'poison', as it would a value no parser foresaw:
    SQLite drops the row silently (as INSERT OR IGNORE does a failed CHECK), PostgreSQL raises a data error."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "CREATE TRIGGER refuse_poison BEFORE INSERT ON mentions_mention "
                "WHEN NEW.external_id = 'poison' BEGIN SELECT RAISE(IGNORE); END"
            )
        else:
            cursor.execute(
                "CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "IF NEW.external_id = 'poison' THEN RAISE EXCEPTION 'refused' USING ERRCODE = '22023'; END IF; "
                "RETURN NEW; END $$"
            )
            cursor.execute(
                "CREATE TRIGGER refuse_poison BEFORE INSERT ON mentions_mention "
                "FOR EACH ROW EXECUTE FUNCTION refuse_poison()"
            )
    yield
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER refuse_poison")
        else:
            cursor.execute("DROP TRIGGER refuse_poison ON mentions_mention")
            cursor.execute("DROP FUNCTION refuse_poison()")


@pytest.mark.usefixtures("refusing_database")
def test_a_record_the_database_refuses_is_quarantined_and_the_import_finishes(tmp_path: Path) -> None:
    lines = [json.dumps({**GOOD, "id": key}) for key in ("a1", "poison", "a2")] + ["not json"]
    path = write_lines(tmp_path / "f.jsonl", lines)

    first = import_file(path=path, source_name="db")
    second = import_file(path=path, source_name="db")

    assert first.as_dict() == {"imported": 2, "duplicates": 0, "rejected": 2}
    assert second.as_dict() == {"imported": 0, "duplicates": 2, "rejected": 2}
    assert sorted(Mention.objects.values_list("external_id", flat=True)) == ["a1", "a2"]
    refused = Quarantine.objects.get(position="line 2")
    assert refused.raw == lines[1]
    assert "the database refused" in refused.reason
    assert Quarantine.objects.count() == 2


# --- how files are written -------------------------------------------------------------------------------


def test_a_csv_with_a_byte_order_mark_imports(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbfid,text,created_at\r\n1,caf\xc3\xa9 wifi down,2025-03-01T10:00:00Z\r\n")
    assert import_file(path=path, source_name="x").as_dict() == {
        "imported": 1,
        "duplicates": 0,
        "rejected": 0,
    }
    assert Mention.objects.get().text == "café wifi down"


def test_a_jsonl_with_a_byte_order_mark_imports_its_first_line(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(GOOD).encode() + b"\n")
    assert import_file(path=path, source_name="x").as_dict() == {
        "imported": 1,
        "duplicates": 0,
        "rejected": 0,
    }


def test_a_latin1_csv_row_is_quarantined_as_not_utf8_and_the_rest_kept(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(
        b"id,text,created_at\n1,wifi down,2025-03-01T10:00:00Z\n2,caf\xe9 closed,2025-03-01T10:00:00Z\n"
        b"3,printer jam,2025-03-01T10:00:00Z\n"
    )
    report = import_file(path=path, source_name="latin1")
    assert report.as_dict() == {"imported": 2, "duplicates": 0, "rejected": 1}
    assert sorted(Mention.objects.values_list("external_id", flat=True)) == ["1", "3"]
    kept = Quarantine.objects.get()
    assert (kept.position, kept.raw) == ("line 3", "2,caf\ufffd closed,2025-03-01T10:00:00Z")
    assert kept.reason == "not UTF-8 text (invalid continuation byte at byte 5)"


def test_a_csv_field_over_128_kib_imports_and_the_next_row_is_kept(tmp_path: Path) -> None:
    long_text = "a long complaint " * 10_000  # 170 KB, over the csv module's default limit
    path = tmp_path / "long.csv"
    path.write_text(f"id,text,created_at\n1,{long_text},{AT}\n2,short,{AT}\n", encoding="utf-8")
    assert import_file(path=path, source_name="x").as_dict() == {
        "imported": 2,
        "duplicates": 0,
        "rejected": 0,
    }
    assert Mention.objects.get(external_id="1").text == long_text


def test_a_csv_field_over_the_limit_is_quarantined_and_the_next_row_kept(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    path.write_text(
        f"id,text,created_at\n1,{'x' * (CSV_FIELD_LIMIT + 1)},{AT}\n2,short,{AT}\n", encoding="utf-8"
    )
    assert import_file(path=path, source_name="x").as_dict() == {
        "imported": 1,
        "duplicates": 0,
        "rejected": 1,
    }
    assert list(Mention.objects.values_list("external_id", flat=True)) == ["2"]
    kept = Quarantine.objects.get()
    assert kept.position == "line 2"
    assert kept.reason.startswith("not valid CSV (field larger than field limit")
    assert kept.raw.startswith("1,xxx") and len(kept.raw) > CSV_FIELD_LIMIT


def test_a_tsv_is_read_with_tabs(tmp_path: Path) -> None:
    path = tmp_path / "f.tsv"
    path.write_text(
        f"id\ttext\tcreated_at\tauthor\n1\twifi, again\t{AT}\tana\n2\t\t{AT}\tbo\n", encoding="utf-8"
    )
    assert import_file(path=path, source_name="tsv").as_dict() == {
        "imported": 1,
        "duplicates": 0,
        "rejected": 1,
    }
    mention = Mention.objects.get()
    assert (mention.text, mention.author) == ("wifi, again", "ana")
    assert Quarantine.objects.get().reason == "text is empty"


def test_a_multi_line_csv_row_is_quarantined_at_its_first_line_with_all_its_text(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text(
        "id,text,created_at\n"
        "\n"  # a blank line: skipped, still counted
        f'1,"first line\nsecond line\nthird",2025-03-01T10:00:00\n'  # line 3, no UTC offset
        f"2,one cell too many,{AT},ana,extra\n"  # line 6
        f'3,"fine\nacross lines",{AT}\n',
        encoding="utf-8",
    )
    assert import_file(path=path, source_name="x").as_dict() == {
        "imported": 1,
        "duplicates": 0,
        "rejected": 2,
    }
    kept = dict(Quarantine.objects.values_list("position", "raw"))
    assert kept == {
        "line 3": '1,"first line\nsecond line\nthird",2025-03-01T10:00:00',
        "line 6": f"2,one cell too many,{AT},ana,extra",  # every cell kept, not only the header's four
    }
    assert Mention.objects.get().text == "fine\nacross lines"


def test_an_unclosed_quote_is_reported_as_such_and_the_rows_before_it_kept(tmp_path: Path) -> None:
    # A stray quote made the rest of the file one row, reported as `line 6: missing required field
    # 'created_at'`: nothing said why, nor that lines 7 onwards were never read as rows.
    path = tmp_path / "tickets.csv"
    path.write_text(
        "id,text,created_at\n"
        f"1,moodle is down,{AT}\n"
        f'2,"a ""quoted"" word and\nsecond line",{AT}\n'  # lines 3-4: quotes that close
        f'3,say ""hi"" to eduroam,{AT}\n'  # quotes inside an unquoted field are text
        f'4,"the printers are down again,{AT}\n'  # line 6: the quote never closes
        f"5,wifi slow,{AT}\n"
        f"6,vpn broken,{AT}\n",
        encoding="utf-8",
    )
    assert import_file(path=path, source_name="x").as_dict() == {
        "imported": 3,
        "duplicates": 0,
        "rejected": 1,
    }
    quarantined = Quarantine.objects.get()
    assert quarantined.position == "line 6"
    assert quarantined.reason.startswith(
        "unclosed quote: the quoted field opened on line 6 never closes (it runs to the end of the file, line 8)"
    ), quarantined.reason
    assert quarantined.raw.startswith('4,"the printers are down again') and quarantined.raw.endswith(
        "vpn broken," + AT
    )
    assert sorted(Mention.objects.values_list("external_id", flat=True)) == ["1", "2", "3"]


def test_a_quoted_last_field_that_closes_at_the_end_of_the_file_is_not_an_unclosed_quote(
    tmp_path: Path,
) -> None:
    path = tmp_path / "f.csv"
    path.write_text(f'created_at,id,text\n{AT},1,"ends ""here""\nat the end"', encoding="utf-8")
    assert import_file(path=path, source_name="x").as_dict()["imported"] == 1
    assert Mention.objects.get().text == 'ends "here"\nat the end'


# --- links --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["javascript:alert(document.cookie)", " JavaScript:alert(1)", "data:text/html,x"]
)
def test_a_link_that_is_not_http_is_dropped_and_the_post_kept(
    tmp_path: Path, url: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = write_lines(tmp_path / "f.jsonl", [json.dumps({**GOOD, "url": url})])
    with caplog.at_level(logging.WARNING):
        report = import_file(path=path, source_name="x")
    assert report.as_dict() == {"imported": 1, "duplicates": 0, "rejected": 0}
    mention = Mention.objects.get()
    assert mention.url == ""
    assert mention.raw["url"] == url  # the record as received still says what it carried
    assert (
        f"f.jsonl line 1: url {url!r} is not an http(s) link: the post is kept without it" in caplog.messages
    )


def test_an_http_link_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text(f"id,text,created_at,url\n1,t,{AT}, https://forum.example.org/t/1 \n", encoding="utf-8")
    import_file(path=path, source_name="x")
    assert Mention.objects.get().url == "https://forum.example.org/t/1"


# --- empty files --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [("empty.jsonl", ""), ("blank.jsonl", "\n  \n\n"), ("header.csv", "id,text,created_at\n")],
)
def test_a_file_without_records_creates_nothing(
    tmp_path: Path,
    name: str,
    content: str,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        call_command("import_mentions", str(path))  # exit 0: nothing was rejected, nothing failed
    assert json.loads(capsys.readouterr().out.strip()) == {"imported": 0, "duplicates": 0, "rejected": 0}
    assert not Source.objects.exists()
    assert f"{path} holds no records: nothing imported, no source created" in caplog.messages


# --- files that are not imports at all ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        (
            "dump.jsonl",
            bytes(range(256)) * 4 + b"\n\x00\xff\xfe garbage\n",
            "is a mention (line 1: not valid JSON",
        ),
        ("photo.jsonl", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00", "(line 1: not "),
        ("notes.jsonl", b"remember to renew the VPN licence\nand the wifi one\n", "line 1: not valid JSON"),
        ("survey.csv", b"name,text\nana,wifi is down\nbo,moodle slow\n", "no 'id', 'created_at' column"),
        ("blob.csv", b"\x00\x01\x02,\xff\xfe\n\x03,\x04\n", "no 'id', 'text', 'created_at' column"),
    ],
    ids=["binary", "png", "plain-text", "csv-other-columns", "binary-csv"],
)
def test_a_file_that_is_not_an_import_is_refused_in_one_line_and_creates_nothing(
    tmp_path: Path, name: str, content: bytes, reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nothing in the file is a mention: refused before the source is created, so no empty source and no
    quarantine of a whole wrong file are left behind (a file with some good lines still imports them)."""
    from django.core.management.base import CommandError

    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CommandError) as refused:
        call_command("import_mentions", str(path))
    message = str(refused.value)
    assert message.startswith(f"{name} is not a file of mentions: ") and reason in message
    assert message.endswith("; nothing was imported") and "\n" not in message
    assert not Source.objects.exists() and not Quarantine.objects.exists()
    assert capsys.readouterr().out == ""


def test_the_refusal_is_one_line_on_stderr_from_the_command_line(tmp_path: Path) -> None:
    from tests.cli import run_cli
    from tests.sources.test_import import _subprocess_env

    path = tmp_path / "survey.csv"
    path.write_text("name,text\nana,wifi is down\n", encoding="utf-8")
    env = _subprocess_env(tmp_path / "db.sqlite3")
    assert run_cli("manage", "migrate", "--verbosity", "0", env=env, timeout=300).returncode == 0
    done = run_cli("import", str(path), env=env)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "CommandError: survey.csv is not a file of mentions: its header row has no 'id', 'created_at' column "
        "(id, text and created_at are needed); nothing was imported"
    ]
    stats = run_cli("stats", "--json", env=env)
    assert json.loads(stats.stdout)["sources"] == {}


def test_a_file_with_one_good_line_among_garbage_still_imports_it(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\x00\xff garbage\n{nope\n" + json.dumps(GOOD).encode() + b"\n")
    assert import_file(path=path).as_dict() == {"imported": 1, "duplicates": 0, "rejected": 2}
    assert Quarantine.objects.count() == 2 and Source.objects.get().name == "mixed"
