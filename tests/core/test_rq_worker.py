"""`servicepulse worker` on the RQ backend keeps its loaded models from one task to the next.

RQ's default worker forks a process per job, so every analysis task imported torch and loaded the sentence
encoder again; the command runs RQ's SimpleWorker instead (InProcessWorker). These tests run the real worker
(burst, `--until-idle`) on the real Redis at 127.0.0.1:6379 against a SQLite database of their own, and read
what it did from Redis, the database and the encoder's own log line (one per load, with the process id)."""

from __future__ import annotations

import json
import re
import sqlite3
import time
from pathlib import Path

import pytest

from tests.cli import port_open, rq_environment, run_cli

# Databases of their own on the shared Redis (test_rq_backend.py uses 12), one per xdist worker: the tests
# flush theirs around each test, and two of them at once on one database emptied each other's queues.
REDIS_DBS = (13, 14, 15)
LOADED = re.compile(r"loaded the sentence encoder \S+ in [\d.]+ s \(pid (\d+)\)")


pytestmark = [
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.own_database,  # a SQLite file in tmp_path, whatever DATABASE_URL says
    pytest.mark.skipif(
        not port_open(6379), reason="no Redis on 127.0.0.1:6379: the RQ worker needs a real one"
    ),
]


@pytest.fixture
def rq_env(tmp_path: Path, worker_id: str):  # type: ignore[no-untyped-def]
    import redis

    redis_db = REDIS_DBS[
        int(worker_id.removeprefix("gw")) % len(REDIS_DBS) if worker_id.startswith("gw") else 0
    ]
    connection = redis.Redis.from_url(f"redis://127.0.0.1:6379/{redis_db}")
    connection.flushdb()
    env = rq_environment(
        data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}", redis_db=redis_db
    )
    yield env
    connection.flushdb()


def _import(env: dict[str, str], path: Path, prefix: str, count: int) -> None:
    lines = [
        {
            "id": f"{prefix}{i}",
            "text": f"moodle is down again for module {prefix}{i}",
            "created_at": "2026-10-05T09:00:00+00:00",
        }
        for i in range(count)
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    imported = run_cli("import", str(path), "--source", "rq-worker-test", env=env, timeout=300)
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout.strip().splitlines()[-1])["imported"] == count


def _rows(env: dict[str, str], statement: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(env["DATABASE_URL"].removeprefix("sqlite:///")) as connection:
        return connection.execute(statement).fetchall()


def _queued(env: dict[str, str]) -> list[str | None]:
    """The function path of every job waiting on the default queue."""
    import redis
    from rq import Queue

    queue = Queue("default", connection=redis.Redis.from_url(env["REDIS_URL"]))
    return [job.func_name for job in queue.get_jobs()]


def test_rq_worker_loads_the_encoder_once_survives_a_failing_task_and_times_out_a_slow_one(
    rq_env: dict[str, str], tmp_path: Path
) -> None:
    """One worker run (the setup and the model load cost seconds each, so one test covers all of it)."""
    # A task that raises and one that outlives its 2-second timeout (RQ's SIGALRM death penalty must still
    # fire when jobs run in the worker's own process), then two imports' analysis tasks behind them.
    enqueued = run_cli(
        "manage",
        "shell",
        "-c",
        "import django_rq\n"
        "from rq.job import Job\n"
        "from tests.core.rq_tasks import fail_loudly, sleep_for\n"
        "fail_loudly.enqueue()\n"
        "slow = sleep_for.enqueue(30)\n"
        "job = Job.fetch(slow.id, connection=django_rq.get_connection('default'))\n"
        "job.timeout = 2\n"
        "job.save()\n"
        "print(slow.id)\n",
        env=rq_env,
        timeout=120,
    )
    assert enqueued.returncode == 0, enqueued.stderr
    slow_id = enqueued.stdout.strip().splitlines()[-1]
    _import(rq_env, tmp_path / "first.jsonl", "a", 5)
    _import(rq_env, tmp_path / "second.jsonl", "b", 5)
    assert _queued(rq_env).count("servicepulse.analysis.tasks.analyze_mentions") == 2

    worked = run_cli("worker", "--until-idle", env=rq_env, timeout=300)
    assert worked.returncode == 0, worked.stderr
    assert _queued(rq_env) == []
    assert _rows(rq_env, "SELECT count(*) FROM analysis_mentionanalysis") == [(10,)]

    # The encoder's load line, once, in one process: the second task found the model already loaded. With a
    # process forked per task it appeared twice, under two process ids.
    loads = LOADED.findall(worked.stderr)
    assert len(loads) == 1, worked.stderr

    import redis
    from rq.job import Job
    from rq.registry import FailedJobRegistry

    connection = redis.Redis.from_url(rq_env["REDIS_URL"])
    failed = FailedJobRegistry("default", connection=connection).get_job_ids()
    assert len(failed) == 2, worked.stderr
    slow = Job.fetch(slow_id, connection=connection)
    assert slow.get_status() == "failed"
    result = slow.latest_result()
    assert result is not None
    assert "JobTimeoutException" in (result.exc_string or ""), worked.stderr
    assert "Task exceeded maximum timeout value (2 seconds)" in worked.stderr


def test_rq_worker_runs_a_task_deferred_until_later(rq_env: dict[str, str]) -> None:
    """A task enqueued with `run_after` (an alert delivery retried later, a scheduled cross-post) waits in RQ's
    scheduled registry until a worker's scheduler moves it to the queue; the worker ran without one, so such a
    task never ran."""
    enqueued = run_cli(
        "manage",
        "shell",
        "-c",
        "from datetime import timedelta\n"
        "from django.utils import timezone\n"
        "from servicepulse.core.tasks import noop\n"
        "print(noop.using(run_after=timezone.now() + timedelta(seconds=1)).enqueue().id)\n",
        env=rq_env,
        timeout=120,
    )
    assert enqueued.returncode == 0, enqueued.stderr
    job_id = enqueued.stdout.strip().splitlines()[-1]
    time.sleep(1.5)  # now due

    worked = run_cli("worker", "--until-idle", env=rq_env, timeout=300)
    assert worked.returncode == 0, worked.stderr

    import redis
    from rq.job import Job

    job = Job.fetch(job_id, connection=redis.Redis.from_url(rq_env["REDIS_URL"]))
    assert job.get_status() == "finished", worked.stderr


def test_tasks_queued_in_the_database_before_the_switch_to_rq_still_run(
    rq_env: dict[str, str], tmp_path: Path
) -> None:
    """docs/deployment.md's switch to RQ: posts imported while the database backend was still configured
    have their analysis queued as database rows, which an RQ worker never read; the first RQ worker moves
    them to RQ."""
    database_env = {**rq_env, "SERVICEPULSE_TASK_BACKEND": "database"}
    _import(database_env, tmp_path / "before.jsonl", "d", 5)
    assert _rows(
        rq_env, "SELECT count(*) FROM django_tasks_database_dbtaskresult WHERE status = 'READY'"
    ) == [(1,)]

    worked = run_cli("worker", "--until-idle", env=rq_env, timeout=300)

    assert worked.returncode == 0, worked.stderr
    assert "moved 1 task(s)" in worked.stderr
    assert _rows(rq_env, "SELECT count(*) FROM analysis_mentionanalysis") == [(5,)]
    assert _rows(rq_env, "SELECT count(*) FROM django_tasks_database_dbtaskresult") == [(0,)]


def test_rq_worker_runs_under_its_worker_id_even_after_a_killed_predecessor(rq_env: dict[str, str]) -> None:
    """`--worker-id` was passed to the database backend's worker only: under RQ the worker got a random name.
    systemd's unit gives the same id at every restart, and RQ refuses a name still registered as alive, as a
    worker killed outright leaves it (for up to eight minutes): the restarted worker clears that registration."""
    import redis
    from rq.worker import Worker

    connection = redis.Redis.from_url(rq_env["REDIS_URL"])
    key = f"{Worker.redis_worker_namespace_prefix}host-7"
    # What a worker killed while idle leaves: its hash (no "death") in the set of workers.
    connection.hset(
        key, mapping={"birth": "2026-10-05T09:00:00.000000Z", "queues": "default", "state": "idle"}
    )
    connection.expire(key, 480)
    connection.sadd(Worker.redis_workers_keys, key)

    worked = run_cli(
        "worker", "--worker-id", "host-7", "--interval", "2", "--until-idle", env=rq_env, timeout=300
    )

    assert worked.returncode == 0, worked.stderr[-2000:]
    assert "cleared the RQ registration a killed worker left under 'host-7'" in worked.stderr
    assert "--interval applies to the database backend only" in worked.stderr
    # The burst worker registered its birth under that name, then its death when the queue was empty.
    assert connection.hget(key, "birth") != b"2026-10-05T09:00:00.000000Z"
    assert connection.hexists(key, "death")
