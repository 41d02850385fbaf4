"""`servicepulse run` — migrate, load the demo into an empty database, then serve the web app (gunicorn)
with a worker, the scheduler and the streaming-source consumer. Ctrl-C stops everything."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from servicepulse.catalog.models import Service


class Command(BaseCommand):
    help = "Serve servicepulse: web app, a background worker and the scheduler, on one machine."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8000))
        parser.add_argument(
            "--no-demo", action="store_true", help="do not load the demo into an empty database"
        )
        parser.add_argument("--web-workers", type=int, default=2, help="gunicorn worker processes")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("createcachetable", verbosity=0)
        demo_logins: list[tuple[str, str, str]] = []
        if not options["no_demo"] and not Service.objects.exists():
            from servicepulse.demo.services import demo_load

            self.stderr.write("Loading the demo university (first run only)...")
            summary = demo_load()
            demo_logins = summary.logins
        elif not options["no_demo"]:
            from servicepulse.demo.services import demo_logins as existing_logins

            demo_logins = existing_logins()

        host, port = options["host"], options["port"]
        url = f"http://{host}:{port}/"
        python = sys.executable
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ["DJANGO_SETTINGS_MODULE"]}
        children = {
            "web": subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
                [
                    python,
                    "-m",
                    "gunicorn",
                    "servicepulse.config.wsgi:application",
                    "--bind",
                    f"{host}:{port}",
                    "--workers",
                    str(options["web_workers"]),
                    "--threads",
                    "4",
                    "--access-logfile",
                    "-",
                    "--graceful-timeout",
                    "5",
                    "--timeout",
                    "60",
                ],
                env=env,
            ),
            "worker": subprocess.Popen([python, "-m", "servicepulse.cli", "worker"], env=env),  # noqa: S603
            "scheduler": subprocess.Popen([python, "-m", "servicepulse.cli", "scheduler"], env=env),  # noqa: S603
            # Live streaming sources (Mastodon streaming, Bluesky Jetstream); idles when there are none.
            "stream": subprocess.Popen([python, "-m", "servicepulse.cli", "stream"], env=env),  # noqa: S603
        }
        self.stdout.write(f"\nservicepulse {settings.VERSION} is running at {url}")
        for username, password, role in demo_logins:
            self.stdout.write(f"  sign in as {username} / {password}  ({role})")
        self.stdout.write("Press Ctrl-C to stop.\n")
        self.stdout.flush()

        def stop_on_sigterm(signum: int, frame: object) -> None:
            raise KeyboardInterrupt  # a service manager's stop is a Ctrl-C: children are stopped cleanly

        signal.signal(signal.SIGTERM, stop_on_sigterm)
        # Started from a script as a background job (`servicepulse run &`), this process inherits SIGINT
        # ignored, while the children set their own handlers: Ctrl-C would stop them and leave this one
        # calling that a failure. "Press Ctrl-C to stop" holds however it was started.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            while True:
                for name, child in children.items():
                    if child.poll() is not None:
                        raise CommandError(f"the {name} process stopped with exit code {child.returncode}")
                time.sleep(0.5)
        except KeyboardInterrupt:
            self.stdout.write("\nStopping...")
        finally:
            for child in children.values():
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 10
            for child in children.values():
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()
