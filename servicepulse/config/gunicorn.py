"""gunicorn settings that `servicepulse run` adds to its command line (`--config python:...`).

Ctrl-C in the terminal sends SIGINT to every process of `run`, gunicorn's workers included: gunicorn's quick
shutdown. Left to gunicorn, a worker then exits the way Python does, by joining its request threads, and a
thread that is waiting for the first bytes on a connection a browser opened ahead of need (a preconnect) waits
up to five seconds for them; the master meanwhile gives its workers `graceful_timeout` seconds, then kills them
and logs "Worker was sent SIGKILL! Perhaps out of memory?" about a server that was only stopping. So a worker
leaves at once on a quick shutdown (`post_worker_init`).
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any


def post_worker_init(worker: Any) -> None:
    """A worker leaves at once on SIGINT or SIGQUIT, gunicorn's quick shutdown, instead of joining its request
    threads. Not through gunicorn's own handler: the threaded worker's first shuts its thread pool down, and a
    second signal meanwhile (Ctrl-C reaches every process of `run`, and the master then sends its workers
    SIGQUIT) re-entered it and waited forever on the pool's lock: the worker lived on after `run` had stopped,
    holding the port, and the next `make run` found it in use. Leaving with os._exit is safe to re-enter.
    (SIGTERM, a graceful stop, stays gunicorn's: the worker finishes its requests first.)"""

    def leave(signum: int, frame: Any) -> None:
        worker.alive = False
        worker.log.info("Worker exiting (pid: %s)", os.getpid())
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)

    signal.signal(signal.SIGINT, leave)
    signal.signal(signal.SIGQUIT, leave)
