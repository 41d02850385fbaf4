"""`make bench-load`: drive the public status page and the report-a-problem widget from another process on
127.0.0.1 and report requests per second, p95 latency and errors.

Bounded: at most --requests requests or --seconds seconds, whichever comes first. Serves a fresh SQLite (or
--database-url) database with the demo catalogue through gunicorn, exactly as `servicepulse run` does.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
ORIGIN = "http://127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cli(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "servicepulse.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"servicepulse {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


SETUP = """
from servicepulse.catalog.services import catalog_load
from servicepulse.demo.catalog import DEMO_CATALOG
from servicepulse.sources.services import source_create
catalog_load(data=DEMO_CATALOG)
source_create(kind="widget", name="portal", options={"allowed_origins": ORIGIN, "rate_limit_per_hour": 10**9})
""".replace("ORIGIN", repr(ORIGIN))


def worker_loop(base: str, deadline: float, budget: list[int], lock: threading.Lock, results: dict) -> None:
    rng = random.Random(threading.get_ident())
    with httpx.Client(base_url=base, timeout=30, headers={"Origin": ORIGIN}) as client:
        while time.monotonic() < deadline:
            with lock:
                if budget[0] <= 0:
                    return
                budget[0] -= 1
            roll = rng.random()
            start = time.perf_counter()
            try:
                if roll < 0.45:
                    name, response = "GET /status/", client.get("/status/")
                elif roll < 0.6:
                    name, response = "GET /status/summary.json", client.get("/status/summary.json")
                elif roll < 0.7:
                    name, response = "GET /status/badge/vle.svg", client.get("/status/badge/vle.svg")
                elif roll < 0.8:
                    name, response = "GET /status/feed/", client.get("/status/feed/")
                else:
                    session = client.get("/sources/widget/portal/session/").json()
                    name = "widget session+report"
                    response = client.post(
                        "/sources/widget/portal/reports/",
                        json={
                            "service": rng.choice(["vle", "wifi", "student-email", "printing"]),
                            "problem": rng.choice(["down", "slow", "login", "other"]),
                            "comment": "load test report",
                            "token": session["token"],
                            "website": "",
                        },
                    )
                ok = response.status_code < 400
            except httpx.HTTPError:
                name, ok = "transport error", False
            elapsed = time.perf_counter() - start
            with lock:
                results[name].append((elapsed, ok))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="sp-load-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "servicepulse.config.settings.dev",
        "SERVICEPULSE_DATA_DIR": str(data_dir),
        "SERVICEPULSE_TASK_BACKEND": "database",
    }
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    else:
        env.pop("DATABASE_URL", None)
    cli("manage", "migrate", "-v", "0", env=env)
    cli("manage", "shell", "-c", SETUP, env=env)
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "servicepulse.config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "8",
            "--log-level",
            "warning",
        ],
        env=env,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if httpx.get(f"{base}/status/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            raise SystemExit("the server did not start")
        results: dict[str, list[tuple[float, bool]]] = defaultdict(list)
        lock = threading.Lock()
        budget = [args.requests]
        started = time.monotonic()
        deadline = started + args.seconds
        threads = [
            threading.Thread(target=worker_loop, args=(base, deadline, budget, lock, results))
            for _ in range(args.concurrency)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.monotonic() - started
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    everything = [item for rows in results.values() for item in rows]
    errors = sum(1 for _, ok in everything if not ok)

    def p95(values: list[float]) -> float:
        return statistics.quantiles(values, n=20)[-1] * 1000 if len(values) >= 2 else values[0] * 1000

    summary = {}
    for name, rows in sorted(results.items()):
        times = [t for t, _ in rows]
        summary[name] = {
            "requests": len(rows),
            "p95_ms": round(p95(times), 1),
            "errors": sum(not ok for _, ok in rows),
        }
        print(
            f"{name:28s} {len(rows):6d} requests  p95 {p95(times):7.1f} ms  errors {summary[name]['errors']}"
        )
    print(
        f"load: {len(everything)} requests in {wall:.1f}s = {len(everything) / wall:.0f} req/s, "
        f"p95 {p95([t for t, _ in everything]):.1f} ms, errors {errors} (concurrency {args.concurrency})"
    )
    figures = {
        "requests_per_second": round(len(everything) / wall, 1),
        "errors": errors,
        "by_endpoint": summary,
    }
    print(json.dumps(figures))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
