"""The `servicepulse` command in an administrator's scripts: a usage mistake is the usage line and exit 2 (never
a traceback), stdout carries only the data and a reader that stops early (`| head`) ends it quietly, `--output -`
is stdout, Ctrl-C stops long work with one line and exit 130, numbers out of range are refused before any work,
and --help lists the command's own options, each explained."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import CommandError, get_commands, load_command_class

from servicepulse.cli import DJANGO_BASE_OPTIONS
from tests.cli import run_cli

# Each test runs servicepulse on its own SQLite database (or none): the PostgreSQL pass would repeat it as is.
pytestmark = pytest.mark.own_database

MENTIONS = 5000


def _env(data_dir: Path) -> dict[str, str]:
    """A servicepulse on its own SQLite database in `data_dir`."""
    env = {**os.environ, "SERVICEPULSE_DATA_DIR": str(data_dir)}
    env.pop("DATABASE_URL", None)
    return env


def _mentions_file(path: Path, count: int, *, prefix: str = "") -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for n in range(count):
            text = f"the wifi in the library is down again, day {n}; " + "nothing loads " * 40
            record = {"id": f"{prefix}{n}", "text": text, "created_at": "2026-11-02T09:00:00+00:00"}
            handle.write(json.dumps(record) + "\n")
    return path


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A migrated database holding MENTIONS mentions of one imported source."""
    data_dir = tmp_path_factory.mktemp("scripting")
    env = _env(data_dir)
    done = run_cli("manage", "migrate", "-v0", env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    mentions = _mentions_file(data_dir / "posts.jsonl", MENTIONS)
    done = run_cli("import", str(mentions), env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    return env


def _no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr and "Error:" not in stderr.replace("CommandError:", ""), stderr


def _start(args: list[str], env: dict[str, str], **kwargs: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "servicepulse.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # As typed in a terminal: a suite started in the background (`make test &`, a CI runner's script)
        # passes SIGINT on ignored, and Ctrl-C would then not reach the command at all.
        preexec_fn=_sigint_default,
        **kwargs,  # type: ignore[call-overload]
    )


def _sigint_default() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _interrupt_once_working(proc: subprocess.Popen[bytes]) -> tuple[bytes, str]:
    """Ctrl-C as soon as the progress bar shows (the work has begun); what it then wrote."""
    assert proc.stderr is not None
    seen = b""
    deadline = time.monotonic() + 120
    while b"%|" not in seen and time.monotonic() < deadline:
        chunk = os.read(proc.stderr.fileno(), 4096)
        if not chunk:
            break
        seen += chunk
    assert b"%|" in seen, seen
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    return out, (seen + err).decode()


@pytest.mark.parametrize(
    "args",
    [["import"], ["stats", "--bogus"], ["sources"], ["users", "add"], ["load-demo", "--seed", "x"]],
    ids=" ".join,
)
@pytest.mark.parametrize("database", ["fresh", "migrated"])
def test_a_usage_mistake_is_the_usage_line_and_exit_2(
    tmp_path: Path, loaded: dict[str, str], args: list[str], database: str
) -> None:
    env = _env(tmp_path / "fresh") if database == "fresh" else loaded
    proc = run_cli(*args, env=env)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"usage: servicepulse {args[0]}"), proc.stderr
    error = proc.stderr.splitlines()[-1]
    assert error.startswith(f"servicepulse {args[0]}") and ": error: " in error, proc.stderr


def test_export_piped_into_head_stops_quietly(loaded: dict[str, str]) -> None:
    proc = _start(["export"], loaded)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # `| head -1`: the reader has what it wanted
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert json.loads(first).keys() == {"catalog"}
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert proc.returncode == 141  # as `yes | head` reports it


@pytest.mark.parametrize("args", [["export"], ["catalog", "export"]], ids=" ".join)
def test_output_dash_is_stdout(tmp_path: Path, loaded: dict[str, str], args: list[str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "servicepulse.cli", *args, "--output", "-"],
        env=loaded,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "-").exists()
    if args == ["export"]:
        assert len(proc.stdout.splitlines()) == MENTIONS + 1
    else:
        assert proc.stdout.startswith("services:")


def test_export_stopped_part_way_leaves_no_file_that_looks_whole(
    tmp_path: Path, loaded: dict[str, str]
) -> None:
    output = tmp_path / "backup.jsonl"
    proc = _start(["export", "--output", str(output)], loaded)
    _, err = _interrupt_once_working(proc)
    assert proc.returncode == 130, err
    assert err.splitlines()[-1] == "interrupted"
    _no_traceback(err)
    assert list(tmp_path.iterdir()) == []  # neither the file nor the part written so far


def test_ctrl_c_during_an_import_is_one_line_and_the_import_can_be_finished(
    tmp_path: Path, loaded: dict[str, str]
) -> None:
    more = _mentions_file(tmp_path / "more.jsonl", MENTIONS, prefix="more-")
    proc = _start(["import", str(more)], loaded)
    out, err = _interrupt_once_working(proc)
    assert proc.returncode == 130, err
    assert out == b""
    assert err.splitlines()[-1] == "interrupted"
    _no_traceback(err)

    again = run_cli("import", str(more), env=loaded, timeout=300)
    assert again.returncode == 0, again.stderr
    counts = json.loads(again.stdout)
    assert counts["imported"] + counts["duplicates"] == MENTIONS
    assert counts["imported"] > 0  # the interrupted run did not finish the file


def _parser(command: str, *subcommand: str) -> argparse.ArgumentParser:
    parser = load_command_class(get_commands()[command], command).create_parser("servicepulse", command)
    for name in subcommand:
        choices = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
        parser = choices[name]
    return parser


@pytest.mark.parametrize(
    ("command", "args"),
    [
        (
            ("run",),
            ["--web-workers", "0"],
        ),  # gunicorn with no worker answered nothing, after saying "running"
        (("stream",), ["--rescan", "0"]),  # looked for sources in a busy loop
        (("stream",), ["--rescan", "nan"]),
        (("worker",), ["--interval", "-1"]),  # a ValueError traceback from time.sleep once idle
        (("sources", "quarantine"), ["--limit", "-1", "name"]),  # showed nothing and said "0 shown"
    ],
    ids=lambda value: " ".join(value),
)
def test_a_number_out_of_range_is_refused_before_any_work(command: tuple[str, ...], args: list[str]) -> None:
    parser = _parser(*command)
    with pytest.raises(CommandError, match=f"argument {args[0]}: expected "):
        parser.parse_args(args)


# Commands owned elsewhere whose arguments still lack a help text (reported, not changed here).
UNEXPLAINED = {
    ("crosspost_account", "--mode"),
    ("crosspost_account", "--disable"),
    ("import_tickets", "file"),
}


def test_help_lists_each_commands_own_options_each_explained() -> None:
    unexplained = []
    for name, app in sorted(get_commands().items()):
        if not app.startswith("servicepulse"):
            continue
        command = load_command_class(app, name)
        command.suppressed_base_arguments = DJANGO_BASE_OPTIONS
        parsers = [command.create_parser("servicepulse", name)]
        for parser in parsers:
            for action in parser._actions:
                if isinstance(action, argparse._SubParsersAction):
                    parsers.extend(action.choices.values())
                elif action.help is None:
                    unexplained.append(
                        (name, action.option_strings[0] if action.option_strings else action.dest)
                    )
    assert [u for u in unexplained if u not in UNEXPLAINED] == []


def test_help_leaves_out_djangos_own_options(tmp_path: Path) -> None:
    proc = run_cli("stats", "--help", env=_env(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "--json" in proc.stdout
    for option in ("--settings", "--pythonpath", "--traceback", "--no-color", "--version"):
        assert option not in proc.stdout


def test_import_wordpress_of_a_missing_file_is_one_plain_line(tmp_path: Path, loaded: dict[str, str]) -> None:
    proc = run_cli("import-wordpress", str(tmp_path / "missing.xml"), env=loaded)
    assert proc.returncode == 1
    assert (
        proc.stderr.strip()
        == f"CommandError: cannot read {tmp_path / 'missing.xml'}: No such file or directory"
    )


@pytest.mark.browser
def test_screenshots_of_a_servicepulse_that_is_not_running_is_one_line(tmp_path: Path) -> None:
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("needs Chromium at /usr/bin/chromium")
    proc = run_cli(
        "screenshots",
        "--base-url",
        "http://127.0.0.1:9871",
        "--output",
        str(tmp_path / "shots"),
        env=_env(tmp_path),
    )
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert (
        "ERR_CONNECTION_REFUSED" in lines[0]
        and "is servicepulse running at http://127.0.0.1:9871?" in lines[0]
    )
