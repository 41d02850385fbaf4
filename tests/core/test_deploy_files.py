"""The deployment files in docs/deploy/ run what `servicepulse run` runs on a laptop: every long-running process
has a systemd unit and a compose service, each command line is one the `servicepulse` command accepts, and the
compose services start only after the migrations."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path

import yaml
from django.core.management import load_command_class

from servicepulse.cli import ALIASES, _servicepulse_commands

DEPLOY = Path(__file__).resolve().parents[2] / "docs" / "deploy"
# The processes `servicepulse run` starts beside gunicorn (core/management/commands/run.py).
LONG_RUNNING = {"worker", "scheduler", "stream"}


def _parse(argv: list[str]) -> str:
    """The servicepulse command `argv` runs (after the program), checked against the command's own parser."""
    name = ALIASES.get(argv[0], argv[0].replace("-", "_"))
    commands = _servicepulse_commands()
    assert name in commands, f"servicepulse has no command {argv[0]!r}"
    command = load_command_class(commands[name], name)
    command.create_parser("servicepulse", argv[0]).parse_args(argv[1:])
    return argv[0]


def _units() -> dict[str, list[str]]:
    units = {}
    for path in sorted(DEPLOY.glob("*.service")):
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        parser.read_string(path.read_text())
        units[path.name] = shlex.split(
            parser["Service"]["ExecStart"].replace("%H", "host").replace("%i", "1")
        )
    return units


def test_every_long_running_process_has_a_systemd_unit_that_the_cli_accepts() -> None:
    started = set()
    for name, argv in _units().items():
        program = Path(argv[0]).name
        if program == "gunicorn":
            assert argv[1] == "servicepulse.config.wsgi:application", name
            continue
        assert program == "servicepulse", name
        started.add(_parse(argv[1:]))
    assert started == LONG_RUNNING


def test_compose_runs_every_process_after_the_migrations() -> None:
    services = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    started = set()
    for name, service in services.items():
        command = service.get("command")
        if not command or name == "migrate":
            continue
        if Path(command[0]).name == "gunicorn":
            assert command[1] == "servicepulse.config.wsgi:application"
        else:
            started.add(_parse(command[1:]))
        assert service["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}, name
    assert started == LONG_RUNNING
    assert services["migrate"]["depends_on"]["db"] == {"condition": "service_healthy"}
    assert "healthcheck" in services["db"]


def test_environment_file_example_names_only_documented_variables() -> None:
    readme = (DEPLOY.parents[1] / "README.md").read_text()
    example = (DEPLOY / "servicepulse.env.example").read_text()
    lines = [line for line in example.splitlines() if line and not line.startswith("#")]
    for line in lines:
        name = line.split("=", 1)[0]
        assert f"| `{name}`" in readme, f"{name} is not in README's configuration table"


def test_units_keep_restarting_while_the_database_is_down() -> None:
    # A process that cannot reach the database at start-up exits 1 at once (`cannot use the database ...`).
    # With systemd's default RestartSec (100 ms) five such starts fall inside StartLimitIntervalSec (10 s), the
    # unit is marked failed and stays down after PostgreSQL is back: a database restart stopped every worker
    # and the scheduler for good. Restarts must be spaced so the default start limit cannot be reached.
    default_burst, default_interval = 5, 10.0
    for path in sorted(DEPLOY.glob("*.service")):
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        parser.read_string(path.read_text())
        service = parser["Service"]
        assert service.get("Restart") == "always", path.name
        restart_sec = float(service.get("RestartSec", "0.1").rstrip("s"))
        assert (default_burst - 1) * restart_sec >= default_interval, path.name


def test_compose_restarts_the_long_running_services() -> None:
    # Without a restart policy a worker that exits (killed for memory, the database down at start-up) stays
    # down, and /health/ reports the worker missing until someone notices.
    services = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    for name, service in services.items():
        command = service.get("command")
        if not command or name == "migrate":
            continue
        assert service.get("restart") in {"always", "unless-stopped"}, name


def test_gunicorn_in_the_unit_and_compose_runs_without_a_control_socket_as_run_does() -> None:
    # `servicepulse run` passes --no-control-socket (two servers on one machine would share its one path); the
    # systemd unit and compose.yaml started gunicorn with it.
    commands = [argv for argv in _units().values() if Path(argv[0]).name == "gunicorn"]
    services = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    commands += [
        s["command"] for s in services.values() if Path((s.get("command") or [""])[0]).name == "gunicorn"
    ]
    assert len(commands) == 2
    for argv in commands:
        assert "--no-control-socket" in argv, argv


def test_compose_takes_the_database_password_from_the_environment_file_and_builds_its_image() -> None:
    compose = (DEPLOY / "compose.yaml").read_text()
    services = yaml.safe_load(compose)["services"]
    assert "POSTGRES_PASSWORD:" not in compose  # no password written into the compose file
    assert "POSTGRES_PASSWORD" not in services["db"].get("environment", {})
    assert services["db"]["env_file"] == "servicepulse.env"
    example = (DEPLOY / "servicepulse.env.example").read_text()
    assert "# POSTGRES_PASSWORD=CHANGE-ME" in example
    # The image compose runs is built from a Dockerfile that is there, with the project in /app (the
    # services' commands are .venv/bin/... relative to it).
    build = services["migrate"]["build"]
    dockerfile = (DEPLOY / build["context"] / build["dockerfile"]).resolve()
    assert dockerfile.is_file()
    text = dockerfile.read_text()
    assert "WORKDIR /app" in text and "make install" in text
    assert all(s["image"] == "servicepulse:latest" for n, s in services.items() if n not in {"db", "redis"})
