"""The scale-out option: background work on RQ and Redis (127.0.0.1:6379) instead of the database queue, with
PostgreSQL (127.0.0.1:5432) as the database, as docs/deployment.md pairs them.

An import enqueues its analysis on Redis, `servicepulse worker --until-idle` drains it through RQ, and every
mention ends up analysed exactly once — the same path as the database backend, on the real Redis."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.cli import port_open, rq_environment, run_cli

REDIS_DB = 12  # a database of its own on the shared Redis, flushed before and after
PG = "postgres://postgres@127.0.0.1:5432"


pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.own_database,  # creates its own PostgreSQL database in either pass
    pytest.mark.skipif(not port_open(6379), reason="no Redis on 127.0.0.1:6379"),
    pytest.mark.skipif(not port_open(5432), reason="no PostgreSQL on 127.0.0.1:5432"),
]


def _sql(statement: str, database: str = "postgres") -> list[tuple[object, ...]]:
    import psycopg

    with psycopg.connect(f"{PG}/{database}", autocommit=True) as connection:
        cursor = connection.execute(statement)
        return cursor.fetchall() if cursor.description else []


@pytest.fixture
def rq_env(tmp_path: Path):  # type: ignore[no-untyped-def]
    import redis

    database = f"servicepulse_rq_{os.getpid()}"
    _sql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    _sql(f"CREATE DATABASE {database}")
    connection = redis.Redis.from_url(f"redis://127.0.0.1:6379/{REDIS_DB}")
    connection.flushdb()
    env = rq_environment(data_dir=tmp_path, database_url=f"{PG}/{database}", redis_db=REDIS_DB)
    yield env
    connection.flushdb()
    _sql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


def test_import_then_rq_worker_analyses_every_mention_once(rq_env: dict[str, str], tmp_path: Path) -> None:
    lines = [
        {
            "id": f"r{i}",
            "text": f"moodle is down again for module {i}",
            "created_at": "2026-10-05T09:00:00+00:00",
        }
        for i in range(40)
    ]
    path = tmp_path / "posts.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))

    imported = run_cli("import", str(path), "--source", "rq-test", env=rq_env, timeout=300)
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout.strip().splitlines()[-1])["imported"] == 40

    import redis

    queued = redis.Redis.from_url(rq_env["REDIS_URL"]).llen("rq:queue:default")
    assert queued >= 1, "the import did not enqueue its analysis on Redis"

    worked = run_cli("worker", "--until-idle", env=rq_env, timeout=300)
    assert worked.returncode == 0, worked.stderr
    assert redis.Redis.from_url(rq_env["REDIS_URL"]).llen("rq:queue:default") == 0

    database = rq_env["DATABASE_URL"].rsplit("/", 1)[1]
    [(mentions,)] = _sql("SELECT count(*) FROM mentions_mention", database)
    [(analysed,)] = _sql("SELECT count(*) FROM analysis_mentionanalysis", database)
    [(complaints,)] = _sql("SELECT count(*) FROM analysis_mentionanalysis WHERE complaint", database)
    assert (mentions, analysed) == (40, 40)
    assert complaints >= 30  # "moodle is down again" is a complaint for the models

    again = run_cli("import", str(path), "--source", "rq-test", env=rq_env, timeout=300)
    assert json.loads(again.stdout.strip().splitlines()[-1]) == {
        "imported": 0,
        "duplicates": 40,
        "rejected": 0,
    }
