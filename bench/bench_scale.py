"""`make bench-scale`: import and analyse N mentions (default 100,000) on PostgreSQL with 1, 2 and 3 workers;
print mentions per second end to end (import, analysis, aggregation) and the ratio to one worker.

Each run gets a fresh database. The importer and the workers start together, as in production: the import
commits batches and enqueues their analysis; the workers claim tasks with SKIP LOCKED. The clock stops when
every mention has its analysis and the service-day aggregates are rebuilt. Workers run with
SERVICEPULSE_TORCH_THREADS=1 unless --threads says otherwise, so added workers add cores, not contention.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PG = "postgres://postgres@127.0.0.1:5432"

OPENERS = [
    "",
    "anyone else finding ",
    "is it just me or ",
    "honestly ",
    "ugh ",
    "quick question: ",
    "thanks to ",
    "",
]
SUBJECTS = [
    "moodle",
    "the vle",
    "eduroam",
    "the wifi in the library",
    "outlook",
    "my uni email",
    "the student portal",
    "library search",
    "the vpn",
    "the printers",
    "papercut",
    "my timetable",
    "turnitin",
    "sso login",
    "panopto",
    "the it helpdesk",
    "the lecture recordings",
    "the portal",
    "globalprotect",
    "webmail",
]
PREDICATES = [
    "is down again",
    "keeps logging me out",
    "is so slow today",
    "won't load on my phone",
    "works fine now",
    "was really helpful, thank you",
    "says access denied",
    "has been broken since this morning",
    "is great after the upgrade",
    "lost my submission",
    "takes forever",
    "keeps dropping",
    "ate my print credit",
    "shows the wrong room",
    "won't accept my password",
    "is working again, cheers",
]


def make_file(path: Path, n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    start = datetime(2026, 9, 28, tzinfo=UTC)
    with path.open("w") as handle:
        for i in range(n):
            text = f"{rng.choice(OPENERS)}{rng.choice(SUBJECTS)} {rng.choice(PREDICATES)}"
            if rng.random() < 0.2:
                text += rng.choice([" #fail", " :(", " !!", " lol", " any ideas?", " #northgate"])
            created = start + timedelta(seconds=int(i * 86400 * 28 / n))
            handle.write(
                json.dumps(
                    {
                        "id": f"s{i}",
                        "text": text,
                        "created_at": created.isoformat(),
                        "author": f"u{rng.randrange(5000)}",
                    }
                )
                + "\n"
            )


def sql(database: str, statement: str) -> None:
    with psycopg.connect(f"{PG}/{database}", autocommit=True) as connection:
        connection.execute(statement)


def cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "servicepulse.cli", *args], env=env, capture_output=True, text=True
    )


def count(database: str, query: str) -> int:
    with psycopg.connect(f"{PG}/{database}") as connection:
        row = connection.execute(query).fetchone()
        return int(row[0]) if row else 0


SETUP = (
    "from servicepulse.catalog.services import catalog_load; from servicepulse.demo.catalog import DEMO_CATALOG; "
    "catalog_load(data=DEMO_CATALOG)"
)
AGGREGATE = "from servicepulse.dashboard.services import rollup_rebuild; rollup_rebuild()"


def run(workers: int, path: Path, n: int, threads: int) -> float:
    database = "servicepulse_scale"
    sql("postgres", f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    sql("postgres", f"CREATE DATABASE {database}")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "servicepulse.config.settings.dev",
        "DATABASE_URL": f"{PG}/{database}",
        "SERVICEPULSE_DATA_DIR": tempfile.mkdtemp(prefix="sp-scale-"),
        "SERVICEPULSE_TASK_BACKEND": "database",
        "SERVICEPULSE_TORCH_THREADS": str(threads),
        "SERVICEPULSE_LOG_LEVEL": "WARNING",
    }
    for args in (["manage", "migrate", "-v", "0"], ["manage", "shell", "-c", SETUP]):
        result = cli(args, env)
        if result.returncode != 0:
            raise SystemExit(result.stderr[-3000:])
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "servicepulse.cli", "worker", "--interval", "0.2"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for _ in range(workers)
    ]
    time.sleep(8)  # let every worker load its model before the clock starts
    started = time.monotonic()
    try:
        result = cli(["import", str(path), "--source", "scale"], env)
        if result.returncode != 0:
            raise SystemExit(result.stderr[-3000:])
        while count(database, "SELECT count(*) FROM analysis_mentionanalysis") < n:
            if any(p.poll() is not None for p in procs):
                raise SystemExit("a worker died")
            time.sleep(0.5)
        aggregate = cli(["manage", "shell", "-c", AGGREGATE], env)
        if aggregate.returncode != 0:
            print(f"  (aggregation step unavailable: {aggregate.stderr.strip().splitlines()[-1:]})")
        elapsed = time.monotonic() - started
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=60)
    analysed = count(database, "SELECT count(*) FROM analysis_mentionanalysis")
    mentions = count(database, "SELECT count(*) FROM mentions_mention")
    if analysed != n or mentions != n:
        raise SystemExit(f"lost or doubled work: {mentions} mentions, {analysed} analyses for {n} lines")
    sql("postgres", f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    return n / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mentions", type=int, default=100_000)
    parser.add_argument("--workers", default="1,2,3")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per worker")
    args = parser.parse_args()
    try:
        sql("postgres", "SELECT 1")
    except psycopg.OperationalError as exc:
        print(f"skipped: PostgreSQL is not reachable on 127.0.0.1:5432 ({exc})")
        return 0
    path = Path(tempfile.mkdtemp(prefix="sp-scale-")) / "mentions.jsonl"
    make_file(path, args.mentions)
    rates: dict[int, float] = {}
    for workers in [int(w) for w in args.workers.split(",")]:
        rates[workers] = run(workers, path, args.mentions, args.threads)
        ratio = rates[workers] / rates[min(rates)]
        print(
            f"{workers} worker(s): {rates[workers]:.1f} mentions/s end to end ({ratio:.2f}x one worker)",
            flush=True,
        )
    print(
        json.dumps(
            {
                "mentions": args.mentions,
                "mentions_per_second": {str(k): round(v, 1) for k, v in rates.items()},
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
