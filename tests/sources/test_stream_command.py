"""`servicepulse stream` as a real process: killed with SIGKILL in the middle of a Jetstream replay and
started again, it resumes from the stored cursor — every matching post stored once, none lost."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli import run_cli
from tests.replay import WebSocketReplayServer, WsConnection

TOTAL = 600
EVERY = 10  # one event in ten matches the keyword


def make_events(base_us: int) -> list[str]:
    events = []
    for i in range(TOTAL):
        text = (
            f"moodle is down again, attempt {i}" if i % EVERY == 0 else f"just a post about lunch number {i}"
        )
        events.append(
            json.dumps(
                {
                    "did": f"did:plc:user{i % 37:021d}",
                    "time_us": base_us + i * 1000,
                    "kind": "commit",
                    "commit": {
                        "rev": f"3lbrev{i:07d}",
                        "operation": "create",
                        "collection": "app.bsky.feed.post",
                        "rkey": f"3lbkill{i:06d}",
                        "record": {
                            "$type": "app.bsky.feed.post",
                            "createdAt": "2026-11-25T21:00:00.000Z",
                            "langs": ["en"],
                            "text": text,
                        },
                        "cid": f"bafyreikill{i:040d}",
                    },
                },
                separators=(",", ":"),
            )
        )
    return events


def count(db: Path) -> tuple[int, int]:
    with sqlite3.connect(db, timeout=10) as conn:
        total, distinct = conn.execute(
            "SELECT COUNT(*), COUNT(DISTINCT external_id) FROM mentions_mention"
        ).fetchone()
    return int(total), int(distinct)


@pytest.mark.slow
@pytest.mark.own_database  # its own SQLite database, whatever DATABASE_URL says
def test_kill_9_mid_stream_then_restart(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        DJANGO_SETTINGS_MODULE="servicepulse.config.settings.test", SERVICEPULSE_DATA_DIR=str(tmp_path)
    )
    assert run_cli("manage", "migrate", "-v0", env=env).returncode == 0
    db = tmp_path / "servicepulse.sqlite3"
    events = make_events(int(time.time() * 1_000_000) + 60_000_000)  # "future": served to a fresh consumer

    def serve(conn: WsConnection) -> Iterator[str]:
        cursor = int(conn.query.get("cursor", ["0"])[0])
        for line in events:
            if json.loads(line)["time_us"] >= cursor:
                time.sleep(0.005)
                yield line

    with WebSocketReplayServer(serve) as ws:
        added = run_cli(
            "sources", "add", "bluesky", "--name", "bsky",
            "--option", "keywords=moodle", "--option", f"jetstream_url={ws.url}/subscribe", env=env,
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        command = [sys.executable, "-m", "servicepulse.cli", "stream", "--rescan", "1"]
        first = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
        try:
            # Importing torch and loading the models takes seconds on a quiet machine and minutes on a loaded
            # one (it failed once at 60 s with both cores busy); the wait ends as soon as a post is stored.
            deadline = time.monotonic() + 240
            while count(db)[0] == 0 and time.monotonic() < deadline:
                time.sleep(0.1)
            os.kill(first.pid, signal.SIGKILL)  # mid-stream: some posts stored, the rest not yet sent
        finally:
            first.wait(timeout=10)
        stored_at_kill = count(db)[0]
        assert 0 < stored_at_kill < TOTAL // EVERY
        assert ws.connections[0].sent < TOTAL

        second = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 90
            while count(db)[0] < TOTAL // EVERY and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(1.5)  # anything extra (a duplicate) would show up by now
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(timeout=30) == 0
    assert count(db) == (TOTAL // EVERY, TOTAL // EVERY)
    assert "cursor" in ws.connections[-1].query  # the restart resumed from the stored cursor
