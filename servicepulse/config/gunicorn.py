"""gunicorn settings that `servicepulse run` adds to its command line (`--config python:...`).

Ctrl-C in the terminal sends SIGINT to every process of `run`, gunicorn's workers included: gunicorn's quick
shutdown. A worker then exits the way Python does, by joining its request threads, and a thread that is
waiting for the first bytes on a connection a browser opened ahead of need (a preconnect) waits up to five
seconds for them. The master meanwhile gives its workers `graceful_timeout` seconds, then kills them and logs
"Worker was sent SIGKILL! Perhaps out of memory?" — about a server that was only stopping.
"""

from __future__ import annotations

import os
import sys
from typing import Any


def worker_int(worker: Any) -> None:
    """A worker got SIGINT or SIGQUIT, gunicorn's quick shutdown: leave now instead of joining the request
    threads. (SIGTERM, a graceful stop, is not this hook's: the worker finishes its requests first.)"""
    worker.log.info("Worker exiting (pid: %s)", os.getpid())
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
