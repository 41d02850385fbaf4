"""/health/ and `servicepulse run`: the web app, a worker and the scheduler start, report ok, link to the
port they serve on, and stop on Ctrl-C."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from servicepulse.core.models import WorkerHeartbeat
from servicepulse.core.services import heartbeat_beat


@pytest.mark.django_db
def test_health_degraded_without_worker(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["database"] == "ok"
    assert body["worker"] == "missing"
    assert body["queue_depth"] == 0


@pytest.mark.django_db
def test_health_ok_with_fresh_heartbeat_and_stale_after(client) -> None:  # type: ignore[no-untyped-def]
    heartbeat_beat(name="w1")
    body = client.get("/health/").json()
    assert body["status"] == "ok"
    WorkerHeartbeat.objects.update(last_beat_at=timezone.now() - timedelta(minutes=5))
    body = client.get("/health/").json()
    assert (body["status"], body["worker"]) == ("degraded", "stale")


@pytest.mark.django_db
def test_health_says_when_the_deployments_redis_does_not_answer(client, settings, caplog) -> None:  # type: ignore[no-untyped-def]
    heartbeat_beat(name="w1")
    with socket.socket() as unused:  # a port nothing listens on
        unused.bind(("127.0.0.1", 0))
        dead = f"redis://127.0.0.1:{unused.getsockname()[1]}/7"
    redis_cache = {"BACKEND": "django.core.cache.backends.redis.RedisCache"}
    settings.CACHES = {"default": {**redis_cache, "LOCATION": dead}}
    response = client.get("/health/")
    assert response.status_code == 503
    assert (response.json()["status"], response.json()["redis"]) == ("error", "error")
    assert dead not in response.content.decode()  # a public probe: the address goes to the log only
    assert "health: Redis did not answer" in caplog.text
    settings.CACHES = {"default": {**redis_cache, "LOCATION": "redis://127.0.0.1:6379/7"}}
    body = client.get("/health/").json()
    assert (body["status"], body["redis"]) == ("ok", "ok")


@pytest.mark.django_db
def test_health_counts_queued_tasks(client) -> None:  # type: ignore[no-untyped-def]
    from servicepulse.core import tasks as core_tasks

    core_tasks.noop.enqueue()
    core_tasks.noop.enqueue()
    assert client.get("/health/").json()["queue_depth"] == 2


def _free_port() -> int:
    """A free port below the kernel's ephemeral range, for a server started seconds later (`run` binds it
    only after migrating). A port the kernel handed out (bind to 0) is free again once probed, and in those
    seconds the kernel may hand it to another test's server or client on the other xdist worker: gunicorn
    then cannot bind it and `run` stops. Ports below the range are handed out to nobody."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768  # Linux's default
    rng = random.SystemRandom()
    for _ in range(50):
        port = rng.randrange(max(1024, low - 12000), low) if low > 2048 else 0
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise AssertionError("no free port below the ephemeral range")


def _left_running(group: int, output: str) -> str:
    """What is still running in `run`'s process group, and whether it is still there a second later (a process
    on its way out, or one left behind holding the port), with what `run` printed."""

    def in_group() -> str:
        ps = subprocess.run(
            ["ps", "-e", "-o", "pgid=,pid=,ppid=,stat=,etime=,args="], capture_output=True, text=True
        )
        return "".join(line + "\n" for line in ps.stdout.splitlines() if line.split()[0] == str(group))

    now = in_group()
    time.sleep(1)
    return f"processes left running:\n{now}\na second later:\n{in_group()}\nrun printed:\n{output}"


@pytest.mark.slow
@pytest.mark.own_database  # serves its own SQLite database, whatever DATABASE_URL says
def _dev_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """`run` as a developer starts it: development settings, a SQLite database under `tmp_path`."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "servicepulse.config.settings.dev",
        "SERVICEPULSE_DATA_DIR": str(tmp_path),
        **extra,
    }
    env.pop("DATABASE_URL", None)
    return env


@pytest.mark.parametrize(
    "stop_signal",
    [signal.SIGINT, signal.SIGTERM, signal.SIGHUP],
    ids=["ctrl-c", "sigterm", "terminal-closed"],
)
def test_run_serves_health_on_port_env_and_stops_cleanly(tmp_path: Path, stop_signal: signal.Signals) -> None:
    port = _free_port()
    env = _dev_env(tmp_path, PORT=str(port))
    env.pop("SERVICEPULSE_BASE_URL", None)  # links must follow the port served on
    env.pop("SERVICEPULSE_ORGANISATION", None)  # a real organisation's first run is told to name itself
    # Started with SIGINT ignored, as a script's background job (`servicepulse run &`) is: Ctrl-C must still
    # stop everything cleanly.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "servicepulse.cli", "run", "--no-demo"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
    finally:
        signal.signal(signal.SIGINT, previous)
    try:
        body: dict[str, object] = {}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/", timeout=5) as response:
                    body = json.loads(response.read())
                    if body.get("status") == "ok":
                        break
            except urllib.error.HTTPError as exc:
                body = json.loads(exc.read())
            except OSError:
                pass
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            time.sleep(0.5)
        assert body.get("status") == "ok", body
        assert (tmp_path / "servicepulse.sqlite3").exists()
        # Links made by the web app (here the status feed's own) use the port it serves on, not 8000.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/status/feed/", timeout=10) as response:
            assert f"http://127.0.0.1:{port}/status/feed/" in response.read().decode()
        # A browser holds connections open: one kept alive after a page, and one opened ahead of need that has
        # sent nothing yet (a preconnect), which keeps one of gunicorn's request threads waiting for its bytes.
        kept_alive = socket.create_connection(("127.0.0.1", port), timeout=10)
        kept_alive.sendall(b"GET /health/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n")
        assert kept_alive.recv(64).startswith(b"HTTP/1.1 ")
        silent = socket.create_connection(("127.0.0.1", port), timeout=10)
        time.sleep(0.2)  # accepted and handed to a request thread
    finally:
        stopping = time.monotonic()
        # Ctrl-C, and a terminal closing, reach the whole process group; a service manager's SIGTERM reaches
        # only `run` itself.
        if stop_signal == signal.SIGTERM:
            proc.send_signal(signal.SIGTERM)
        else:
            os.killpg(proc.pid, stop_signal)
        output, _ = proc.communicate(timeout=30)
    took = time.monotonic() - stopping
    kept_alive.close()
    silent.close()
    # Stopping is not mistaken for a stuck or starved worker (gunicorn's "Perhaps out of memory?").
    assert "SIGKILL" not in output, output
    assert "Worker exiting" in output
    if stop_signal != signal.SIGTERM:  # a quick stop: it does not wait out the silent connection
        assert took < 4.0, f"{stop_signal.name} took {took:.1f} s to stop everything:\n{output}"
    assert f"http://127.0.0.1:{port}/" in output
    # An empty database without the demo: the first thing to do is to add an admin, and it says how.
    assert "nobody can sign in yet" in output
    assert "servicepulse users add NAME --role admin" in output
    assert "set SERVICEPULSE_ORGANISATION to yours" in output
    assert proc.returncode == 0, output
    leftovers = subprocess.run(["pgrep", "-g", str(proc.pid)], capture_output=True, text=True).stdout.split()
    assert leftovers == [], _left_running(proc.pid, output)
    # The web server runs in a process group of its own, with its workers: none of them is left either.
    web = subprocess.run(
        ["pgrep", "-f", f"bind 127.0.0.1:{port} "], capture_output=True, text=True
    ).stdout.split()
    assert web == [], _left_running(int(web[0]), output)  # web[0] is the master: the group's number


@pytest.mark.own_database  # refused before any database is touched
def test_run_on_a_port_in_use_says_so_before_starting_anything(tmp_path: Path) -> None:
    """Another server on the port (a second `make run`): one line naming the port and what to do, nothing
    announced as running, nothing migrated."""
    from tests.cli import run_cli

    env = _dev_env(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = run_cli("run", "--no-demo", "--port", str(port), env=env, timeout=60)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"CommandError: cannot serve on 127.0.0.1:{port}: the port is in use (another servicepulse or another "
        "server); stop it, or choose another port with --port N (or PORT=N)"
    ]
    assert "is running at" not in proc.stdout
    assert not (tmp_path / "servicepulse.sqlite3").exists()


@pytest.mark.own_database
def test_migrate_alone_creates_the_database_cache_table(tmp_path: Path) -> None:
    """A deployment without Redis keeps its cache (rate limits) in a table; docs/deployment.md runs only
    `servicepulse manage migrate`, after which the first sign-in answered 500 (no such table)."""
    import sqlite3

    from tests.cli import run_cli

    database = tmp_path / "fresh.sqlite3"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="servicepulse.config.settings.dev",
        DATABASE_URL=f"sqlite:///{database}",
    )
    result = run_cli("manage", "migrate", "-v", "0", env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(database) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "servicepulse_cache" in tables


@pytest.mark.own_database
def test_run_will_not_serve_the_demos_published_accounts_beyond_this_machine(tmp_path: Path) -> None:
    """`run --host 0.0.0.0` loaded the demo and served admin / demo-admin (passwords in the README) to the
    network. The demo is for this machine only; its accounts, once they exist, too, until their passwords change."""
    from tests.cli import run_cli

    env = _dev_env(tmp_path)
    port = str(_free_port())
    proc = run_cli("run", "--host", "0.0.0.0", "--port", port, env=env, timeout=300)  # noqa: S104 - what is refused
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        "CommandError: will not serve the demo's accounts on 0.0.0.0: their passwords are published (serve the "
        "demo on this machine only, or start an empty install with --no-demo)"
    )
    assert "is running at" not in proc.stdout

    made = run_cli(
        "manage",
        "shell",
        "-c",
        "from servicepulse.demo.services import demo_users_create; demo_users_create()",
        env=env,
    )
    assert made.returncode == 0, made.stderr
    proc = run_cli("run", "--no-demo", "--host", "0.0.0.0", "--port", port, env=env, timeout=300)  # noqa: S104
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        "CommandError: will not serve the demo's accounts on 0.0.0.0: their passwords are published (admin, "
        "responder, viewer: `servicepulse manage changepassword NAME`, or `servicepulse users deactivate NAME`)"
    )
