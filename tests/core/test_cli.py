"""The `servicepulse` console command as a user runs it: usage lines name the command once, an unknown
command is one line with a suggestion, a database that was never migrated is one line saying how, and
simple mistakes (an unwritable output, a bad PORT) are one line and a non-zero exit, never a traceback."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.analysis.test_train_command import _tiny_data
from tests.cli import run_cli

# Each test runs servicepulse on its own SQLite database (or none): the PostgreSQL pass would repeat it as is.
pytestmark = pytest.mark.own_database

MIGRATE = "run `servicepulse manage migrate` (or `servicepulse run`, which migrates)"


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    """A servicepulse on its own SQLite database in `data_dir` (not the suite's, not PostgreSQL's)."""
    env = {**os.environ, "SERVICEPULSE_DATA_DIR": str(data_dir)}
    env.pop("DATABASE_URL", None)
    return {**env, **extra}


def _one_line(proc: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    env = _env(tmp_path_factory.mktemp("migrated"))
    done = run_cli("manage", "migrate", "-v0", env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    return env


@pytest.mark.parametrize(
    ("args", "usage"),
    [
        (["analyze", "--help"], "usage: servicepulse analyze [-h]"),
        (["import", "--help"], "usage: servicepulse import [-h]"),
        (["load-demo", "--help"], "usage: servicepulse load-demo [-h]"),
        (["sources", "add", "--help"], "usage: servicepulse sources add [-h]"),
        (["manage", "migrate", "--help"], "usage: servicepulse manage migrate [-h]"),
    ],
)
def test_usage_names_the_command_once(tmp_path: Path, args: list[str], usage: str) -> None:
    # A data directory that was never migrated: --help needs no database.
    proc = run_cli(*args, env=_env(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(usage), proc.stdout.splitlines()[0]


def test_an_unknown_django_command_is_a_usage_error(tmp_path: Path) -> None:
    proc = run_cli("manage", "migrat", env=_env(tmp_path))
    assert proc.returncode == 2
    assert _one_line(proc) == (
        "unknown command 'migrat' (did you mean migrate?); `servicepulse manage help` lists Django's commands"
    )


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("nosuch", "unknown command 'nosuch'; `servicepulse help` lists them"),
        ("demo", "unknown command 'demo' (did you mean load-demo?); `servicepulse help` lists them"),
    ],
)
def test_unknown_command_is_one_line_with_the_names_help_lists(
    tmp_path: Path, typed: str, message: str
) -> None:
    proc = run_cli(typed, env=_env(tmp_path))
    assert proc.returncode == 2
    assert _one_line(proc).startswith(message)
    listed = run_cli("help", env=_env(tmp_path)).stdout.split()
    assert "load-demo" in listed and "import" in listed


@pytest.mark.parametrize(
    "args",
    [
        ["stats"],
        ["sources", "list"],
        ["worker", "--until-idle"],
        ["load-demo"],
        ["import", "MENTIONS"],
        ["export"],
        ["scheduler"],
    ],
    ids=lambda args: " ".join(args),
)
def test_a_database_never_migrated_is_one_line_saying_how(tmp_path: Path, args: list[str]) -> None:
    mentions = tmp_path / "mentions.jsonl"
    mentions.write_text('{"id": "1", "text": "wifi down", "created_at": "2025-01-01T00:00:00+00:00"}\n')
    proc = run_cli(*[str(mentions) if a == "MENTIONS" else a for a in args], env=_env(tmp_path / "data"))
    assert proc.returncode == 1
    assert _one_line(proc) == f"CommandError: the database is not set up yet; {MIGRATE}"


def test_a_database_that_cannot_be_opened_is_one_line(tmp_path: Path) -> None:
    env = _env(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/missing/dir/db.sqlite3")
    proc = run_cli("stats", env=env)
    assert proc.returncode == 1
    assert (
        _one_line(proc)
        == "CommandError: cannot use the database (OperationalError: unable to open database file)"
    )


def test_commands_that_need_no_database_run_on_a_fresh_data_directory(tmp_path: Path) -> None:
    series = tmp_path / "series.csv"
    series.write_text("timestamp,value\n2025-01-01 00:00,1\n2025-01-01 00:15,2\n")
    proc = run_cli("detect", str(series), "--output", str(tmp_path / "out.csv"), env=_env(tmp_path / "data"))
    assert proc.returncode == 0, proc.stderr


def test_a_migrated_database_passes_the_check(migrated: dict[str, str]) -> None:
    proc = run_cli("stats", "--json", env=migrated)
    assert proc.returncode == 0, proc.stderr
    assert '"mentions": 0' in proc.stdout


def test_help_gives_every_command_one_line_saying_what_it_is_for(tmp_path: Path) -> None:
    from django.core.management import get_commands

    from servicepulse.cli import SUMMARIES

    ours = {name for name, app in get_commands().items() if app.startswith("servicepulse")}
    assert set(SUMMARIES) == ours  # a new command gets its line in the list; a removed one loses it
    proc = run_cli("help", env=_env(tmp_path))
    assert proc.returncode == 0 and not proc.stderr, proc.stderr
    listed = dict(line.split(None, 1) for line in proc.stdout.splitlines()[1:] if line.startswith("  "))
    assert listed["import"] == "import mentions from JSON Lines or CSV"
    assert listed["manage"].startswith("any Django management command")
    assert len(listed) == len(ours) + 1 and all(listed.values())


@pytest.mark.parametrize(
    ("typed", "usage"), [("import", "usage: servicepulse import "), ("manage", "Type '")]
)
def test_help_with_a_command_name_is_that_commands_help(tmp_path: Path, typed: str, usage: str) -> None:
    proc = run_cli("help", typed, env=_env(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.lstrip().startswith(usage), proc.stdout


@pytest.mark.parametrize("command", ["import", "restore"])
def test_a_directory_given_as_the_file_is_one_line_saying_so(
    tmp_path: Path, migrated: dict[str, str], command: str
) -> None:
    proc = run_cli(command, str(tmp_path), env=migrated)
    assert proc.returncode == 1
    assert _one_line(proc) == f"CommandError: {tmp_path} is a directory, not a file"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["report", "--week", "2026-47"], "argument --week: '2026-47' is not an ISO week like 2026-W47"),
        (["digest", "--week", "yesterday"], "argument --week: not a date (YYYY-MM-DD): 'yesterday'"),
        (["draft-you-said-we-did", "--days", "0"], "argument --days: expected a whole number of at least 1"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else "",
)
def test_a_bad_option_value_is_a_usage_error_before_the_database(
    tmp_path: Path, args: list[str], error: str
) -> None:
    # A data directory never migrated: the mistake is named (exit 2, as for any usage error) before the
    # database is looked at, not hidden behind "not set up yet" and then refused with exit 1.
    proc = run_cli(*args, env=_env(tmp_path))
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.splitlines()[0].startswith(f"usage: servicepulse {args[0]} ")
    assert f"servicepulse {args[0]}: error: {error}" in proc.stderr, proc.stderr


@pytest.mark.django_db
@pytest.mark.parametrize("where", ["missing-dir", "a-directory"])
def test_export_to_a_path_that_cannot_be_written(tmp_path: Path, where: str) -> None:
    output = tmp_path / "nonexistent" / "x.jsonl" if where == "missing-dir" else tmp_path
    with pytest.raises(CommandError, match=re.escape(f"cannot write {output}: ")) as info:
        call_command("export", output=str(output))
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("port", ["abc", "0", "70000"])
def test_run_with_a_bad_port_is_one_line(tmp_path: Path, port: str) -> None:
    env = _env(tmp_path, PORT=port)
    helped = run_cli("run", "--help", env=env)
    assert helped.returncode == 0 and helped.stdout.startswith("usage: servicepulse run"), helped.stderr
    failed = run_cli("run", "--no-demo", env=env)
    assert failed.returncode == 1
    assert _one_line(failed) == f"CommandError: PORT must be a port number from 1 to 65535 (got {port!r})"


def test_train_shows_a_progress_bar_while_encoding(tmp_path: Path) -> None:
    data = _tiny_data(tmp_path / "data")
    proc = run_cli(
        "train",
        "--data",
        str(data),
        "--output",
        str(tmp_path / "heads"),
        "--no-eval",
        "--no-corrections",
        env=_env(tmp_path / "fresh"),  # and no database needed without corrections
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    # 6 complaint rows, 6 + 3 sentiment rows, 4 spam comments.
    assert re.search(r"encoding: 100%.*\b19/19 ", proc.stderr), proc.stderr
    assert (tmp_path / "heads" / "heads.json").exists()


def _heartbeats(env: dict[str, str]) -> list[str]:
    with sqlite3.connect(Path(env["SERVICEPULSE_DATA_DIR"]) / "servicepulse.sqlite3") as db:
        return [name for (name,) in db.execute("SELECT name FROM core_workerheartbeat")]


@pytest.mark.slow
def test_scheduler_stopped_by_sigterm_removes_its_heartbeat(migrated: dict[str, str]) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "servicepulse.cli", "scheduler"],
        env=migrated,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not _heartbeats(migrated) and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.2)
        assert [name.startswith("scheduler-") for name in _heartbeats(migrated)] == [True]
    finally:
        proc.send_signal(signal.SIGTERM)  # what systemd sends on stop
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert _heartbeats(migrated) == []


class _Lines:
    """A process's stderr read line by line in the background, so a test can wait for a line."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        import threading

        self.lines: list[str] = []
        assert proc.stderr is not None
        stream = proc.stderr
        threading.Thread(target=lambda: self.lines.extend(iter(stream.readline, "")), daemon=True).start()

    def wait_for(self, text: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if text in line:
                    return line
            time.sleep(0.2)
        raise AssertionError(f"no line with {text!r} in {self.lines}")


@pytest.mark.slow
def test_a_second_scheduler_stands_by_and_takes_over_when_the_first_stops(migrated: dict[str, str]) -> None:
    def start() -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "servicepulse.cli", "scheduler"],
            env=migrated,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    first = start()
    second: subprocess.Popen[str] | None = None
    try:
        first_out = _Lines(first)
        first_out.wait_for("enqueueing")
        second = start()
        second_out = _Lines(second)
        standby = second_out.wait_for("standing by")
        assert "scheduler-" in standby and "enqueues the jobs" in standby, standby
        assert not any("enqueueing" in line for line in second_out.lines)
        first.send_signal(signal.SIGTERM)  # a clean stop gives the lease up: no wait for it to expire
        first.wait(timeout=30)
        second_out.wait_for("enqueueing", timeout=20)
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=30)
    assert first.returncode == 0 and second is not None and second.returncode == 0
    assert not any("Traceback" in line for line in first_out.lines + second_out.lines)


def test_help_lists_every_long_running_process_and_export_is_not_called_a_backup(tmp_path: Path) -> None:
    # `servicepulse --help` left out `stream`, one of the four processes docs/deployment.md runs; `help` said
    # export "backs up" while deployment.md says it is not a backup.
    usage = run_cli("--help", env=_env(tmp_path))
    assert usage.returncode == 0
    common = {line.split()[0] for line in usage.stdout.splitlines() if line.startswith("  ")}
    assert {"run", "worker", "scheduler", "stream"} <= common
    listed = run_cli("help", env=_env(tmp_path))
    export = next(line for line in listed.stdout.splitlines() if line.split()[:1] == ["export"])
    assert "back up" not in export and "not a backup" in export, export
