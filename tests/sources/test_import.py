"""`servicepulse import`: every kind of bad line is quarantined with its reason, valid lines are kept,
re-runs add nothing, and a kill -9 mid-import followed by a re-run ends as if it ran once."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest
from django.core.management import call_command

from servicepulse.mentions.models import Mention, Quarantine
from servicepulse.sources.connectors.file_import.importer import import_file
from servicepulse.sources.models import Source
from tests.cli import run_cli

GOOD = {"id": "a1", "text": "moodle is down again", "created_at": "2026-10-01T09:00:00Z", "author": "sam"}


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


BAD_LINES = {
    "not json": ("{this is not json", "not valid JSON"),
    "not an object": ('["a", "b"]', "expected a JSON object"),
    "missing id": (
        json.dumps({"text": "x", "created_at": "2026-10-01T09:00:00Z"}),
        "missing required field 'id'",
    ),
    "id not a string": (
        json.dumps({"id": 7, "text": "x", "created_at": "2026-10-01T09:00:00Z"}),
        "id must be",
    ),
    "missing text": (
        json.dumps({"id": "b", "created_at": "2026-10-01T09:00:00Z"}),
        "missing required field 'text'",
    ),
    "text not a string": (
        json.dumps({"id": "b", "text": 5, "created_at": "2026-10-01T09:00:00Z"}),
        "text must be",
    ),
    "empty text": (
        json.dumps({"id": "b", "text": "   ", "created_at": "2026-10-01T09:00:00Z"}),
        "text is empty",
    ),
    "naive date": (
        json.dumps({"id": "b", "text": "x", "created_at": "2026-10-01T09:00:00"}),
        "no UTC offset",
    ),
    "unparsable date": (json.dumps({"id": "b", "text": "x", "created_at": "yesterday"}), "not an ISO 8601"),
    "date not a string": (json.dumps({"id": "b", "text": "x", "created_at": 1700000000}), "ISO 8601 string"),
    "author not a string": (
        json.dumps({"id": "b", "text": "x", "created_at": "2026-10-01T09:00:00Z", "author": ["x"]}),
        "author must be a string",
    ),
    "truncated": ('{"id": "b", "text": "cut off he', "not valid JSON"),
    "text of NULs": (
        json.dumps({"id": "b", "text": "\u0000\u0000", "created_at": "2026-10-01T09:00:00Z"}),
        "text is empty",
    ),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("case", sorted(BAD_LINES))
def test_each_bad_line_is_quarantined_and_good_lines_kept(tmp_path: Path, case: str) -> None:
    bad, reason = BAD_LINES[case]
    good2 = {**GOOD, "id": "a2", "created_at": "2026-10-01T10:00:00+01:00"}
    path = write_lines(tmp_path / "feed.jsonl", [json.dumps(GOOD), bad, json.dumps(good2)])

    report = import_file(path=path, source_name="students")

    assert report.as_dict() == {"imported": 2, "duplicates": 0, "rejected": 1}
    assert sorted(Mention.objects.values_list("external_id", flat=True)) == ["a1", "a2"]
    kept = Quarantine.objects.get()
    assert reason in kept.reason
    assert kept.position == "line 2"
    assert kept.raw == bad
    assert kept.source == Source.objects.get(name="students")


@pytest.mark.django_db(transaction=True)
def test_rerun_counts_duplicates_and_changes_nothing(tmp_path: Path) -> None:
    lines = [json.dumps({**GOOD, "id": f"m{i}"}) for i in range(5)] + ["not json"]
    path = write_lines(tmp_path / "f.jsonl", lines)
    first = import_file(path=path, source_name="s")
    second = import_file(path=path, source_name="s")
    assert first.as_dict() == {"imported": 5, "duplicates": 0, "rejected": 1}
    assert second.as_dict() == {"imported": 0, "duplicates": 5, "rejected": 1}
    assert Mention.objects.count() == 5
    assert Quarantine.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_nul_characters_are_dropped_not_fatal(tmp_path: Path) -> None:
    """PostgreSQL refuses NUL in text and jsonb: the post is kept without them, on every database."""
    line = json.dumps({**GOOD, "text": "wifi\u0000 down", "author": "a\u0000b", "extra": {"k": "v\u0000"}})
    path = write_lines(tmp_path / "nul.jsonl", [line, "{not json \u0000"])
    report = import_file(path=path, source_name="nul")
    assert report.as_dict() == {"imported": 1, "duplicates": 0, "rejected": 1}
    mention = Mention.objects.get()
    assert (mention.text, mention.author, mention.raw["extra"]) == ("wifi down", "ab", {"k": "v"})
    assert Quarantine.objects.get().raw == "{not json \\u0000"


@pytest.mark.django_db(transaction=True)
def test_duplicate_ids_within_one_file_are_stored_once(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "f.jsonl", [json.dumps(GOOD), json.dumps({**GOOD, "text": "second copy"})])
    report = import_file(path=path, source_name="s")
    assert report.as_dict() == {"imported": 1, "duplicates": 1, "rejected": 0}
    assert Mention.objects.get().text == GOOD["text"]


@pytest.mark.django_db(transaction=True)
def test_time_zone_offsets_are_kept_as_the_same_moment(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "f.jsonl", [json.dumps({**GOOD, "created_at": "2026-10-01T10:00:00+01:00"})]
    )
    import_file(path=path, source_name="s")
    assert Mention.objects.get().created_at.isoformat() == "2026-10-01T09:00:00+00:00"


@pytest.mark.django_db(transaction=True)
def test_csv_with_same_columns(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text(
        "id,text,created_at,author\n"
        'c1,"wifi, again, in the library",2026-10-01T09:00:00Z,ana\n'
        "c2,,2026-10-01T09:00:00Z,bo\n"
        "c3,printer jam,2026-10-01T09:00:00,cy\n"
        "c4,portal down,2026-10-01T09:30:00+00:00,\n",
        encoding="utf-8",
    )
    report = import_file(path=path, source_name="csv")
    assert report.as_dict() == {"imported": 2, "duplicates": 0, "rejected": 2}
    assert Mention.objects.get(external_id="c1").text == "wifi, again, in the library"
    assert set(Quarantine.objects.values_list("position", flat=True)) == {"line 3", "line 4"}


@pytest.mark.django_db(transaction=True)
def test_cli_prints_counts_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write_lines(tmp_path / "good.jsonl", [json.dumps(GOOD)])
    call_command("import_mentions", str(good), source="cli")
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == {
        "imported": 1,
        "duplicates": 0,
        "rejected": 0,
    }
    bad = write_lines(tmp_path / "bad.jsonl", [json.dumps({**GOOD, "id": "z"}), "nope"])
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_mentions", str(bad), source="cli")
    assert exit_info.value.code == 1
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == {
        "imported": 1,
        "duplicates": 0,
        "rejected": 1,
    }
    call_command("stats", json=True)
    stats = json.loads(capsys.readouterr().out)
    assert stats == {"mentions": 2, "quarantined": 1, "sources": {"cli": 2}}


def _subprocess_env(db_path: Path) -> dict[str, str]:
    from django.conf import settings

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "servicepulse.config.settings.test"}
    engine = settings.DATABASES["default"]["ENGINE"]
    if engine.endswith("sqlite3"):
        env["DATABASE_URL"] = f"sqlite:///{db_path}"
    else:
        db = settings.DATABASES["default"]
        env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return env


def _stored_mentions(db_path: Path) -> int:
    """How many posts the importer has committed: in its SQLite file, or on PostgreSQL, where the subprocess
    writes to the test database, through this test's own connection."""
    from django.conf import settings

    if not settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        return Mention.objects.count()
    try:
        with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=1)) as db:
            return int(db.execute(f"SELECT COUNT(*) FROM {Mention._meta.db_table}").fetchone()[0])  # noqa: S608
    except sqlite3.OperationalError:  # not created yet, or locked by a commit: ask again
        return 0


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_kill_dash_nine_mid_import_then_rerun_is_exact(tmp_path: Path) -> None:
    """A real `servicepulse import` process is killed with SIGKILL part-way; the re-run completes exactly."""
    n = 20000
    lines = []
    for i in range(n):
        lines.append("{broken" if i % 1000 == 7 else json.dumps({**GOOD, "id": f"k{i}", "text": f"post {i}"}))
    path = write_lines(tmp_path / "big.jsonl", lines)
    db_path = tmp_path / "kill.sqlite3"
    env = _subprocess_env(db_path)
    if "sqlite" in env["DATABASE_URL"]:
        assert run_cli("manage", "migrate", "-v", "0", env=env).returncode == 0

    proc = subprocess.Popen(
        [sys.executable, "-m", "servicepulse.cli", "import", str(path), "--source", "big"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    # Wait until some batches are committed, then kill without warning. The count is read here, in a few
    # milliseconds: asking `servicepulse stats` took a process start (a second or more on a busy machine), and
    # a fast import had finished by the time it answered.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _stored_mentions(db_path) < 1000:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    partial = json.loads(run_cli("stats", "--json", env=env).stdout)
    assert 0 < partial["mentions"] < n - 20, "the kill should land mid-import"

    rerun = run_cli("import", str(path), "--source", "big", env=env)
    assert rerun.returncode == 1  # the broken lines are still rejected
    final = json.loads(run_cli("stats", "--json", env=env).stdout)
    assert final == {"mentions": n - 20, "quarantined": 20, "sources": {"big": n - 20}}
    counts = json.loads(rerun.stdout.strip().splitlines()[-1])
    assert counts["imported"] + counts["duplicates"] == n - 20
    assert counts["rejected"] == 20


@pytest.mark.django_db(transaction=True)
def test_cli_names_each_rejected_line_with_its_reason_and_where_to_find_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from servicepulse.sources.connectors.file_import import importer

    monkeypatch.setattr(importer, "REJECTIONS_SHOWN", 2)
    bad = write_lines(
        tmp_path / "survey.jsonl",
        [json.dumps(GOOD), "{nope", json.dumps({**GOOD, "id": "b", "text": ""}), "[1]"],
    )
    with pytest.raises(SystemExit):
        call_command("import_mentions", str(bad))
    err = capsys.readouterr().err
    assert "survey.jsonl line 2: not valid JSON" in err
    assert "survey.jsonl line 3: text is empty" in err
    assert (
        "line 4" not in err
    )  # the first ones only: a file of a million bad lines must not flood the terminal
    assert "3 line(s) rejected; 1 more not shown here" in err
    assert "servicepulse sources quarantine survey" in err
