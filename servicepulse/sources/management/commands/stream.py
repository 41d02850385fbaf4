"""`servicepulse stream` — consume every enabled streaming source live (Mastodon streaming, Jetstream).

One thread per source; each connector reconnects with back-off and resumes from its stored cursor. Sources
added, enabled, disabled or removed are picked up within `--rescan` seconds. SIGTERM or Ctrl-C stops cleanly.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections, connection

from servicepulse.core.arguments import positive_seconds
from servicepulse.sources.models import Source
from servicepulse.sources.registry import ConnectorError, connector_for
from servicepulse.sources.services import source_record_failure, sources_streamed

logger = logging.getLogger(__name__)


class _Runner:
    def __init__(self, source: Source) -> None:
        self.source_id = source.pk
        self.name = source.name
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"stream-{source.name}", daemon=True)

    def _run(self) -> None:
        try:
            while not self.stop.is_set():
                source = Source.objects.filter(pk=self.source_id, enabled=True).first()
                if source is None:
                    return
                try:
                    connector_for(source).stream(stop=self.stop)
                except ConnectorError as exc:  # misconfigured: note it, and look again later
                    source_record_failure(source=source, error=str(exc), retry_after=exc.retry_after)
                    self.stop.wait(60)
                except Exception:  # a bug must not end the other streams; log it and restart this one
                    logger.exception("stream %s crashed; restarting", self.name)
                    self.stop.wait(10)
        finally:
            connection.close()


class Command(BaseCommand):
    help = "Consume all enabled streaming sources live, reconnecting as needed (runs until stopped)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--source", action="append", default=[], help="only these sources (repeatable)")
        parser.add_argument(
            "--rescan",
            type=positive_seconds,
            default=30.0,
            help="seconds between looks for new, changed or removed sources (default 30)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()

        def request_stop(signum: int, frame: Any) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        runners: dict[int, _Runner] = {}
        only = set(options["source"])
        announced = False
        while not stop.is_set():
            close_old_connections()
            wanted = {source.pk: source for source in sources_streamed(names=only)}
            for source_id, source in wanted.items():
                if source_id not in runners or not runners[source_id].thread.is_alive():
                    runner = _Runner(source)
                    runners[source_id] = runner
                    runner.thread.start()
                    self.stderr.write(f"streaming {source.kind} source {source.name!r}")
            for source_id in list(runners):
                if source_id not in wanted:
                    runners.pop(source_id).stop.set()
            if not wanted and not announced:
                rescan = int(options["rescan"])
                self.stderr.write(f"no streaming sources yet; looking again every {rescan}s")
                announced = True
            stop.wait(options["rescan"])
        for runner in runners.values():
            runner.stop.set()
        deadline = time.monotonic() + 10
        for runner in runners.values():
            runner.thread.join(timeout=max(0.1, deadline - time.monotonic()))
        self.stderr.write("stream stopped")
