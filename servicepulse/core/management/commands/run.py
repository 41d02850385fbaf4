"""`servicepulse run` — migrate, load the demo into an empty database, then serve the web app (gunicorn)
with a worker, the scheduler and the streaming-source consumer. Ctrl-C stops everything."""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from servicepulse.catalog.models import Service
from servicepulse.core.arguments import positive_int


class Command(BaseCommand):
    needs_migrated_database = False  # it migrates the database itself
    help = "Serve servicepulse: web app, a background worker and the scheduler, on one machine."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--host", default="127.0.0.1", help="address to serve on (default 127.0.0.1: this machine only)"
        )
        parser.add_argument("--port", type=int, help="port to serve on (default: $PORT, else 8000)")
        parser.add_argument(
            "--no-demo", action="store_true", help="do not load the demo into an empty database"
        )
        parser.add_argument(
            "--web-workers", type=positive_int, default=2, help="gunicorn worker processes (default 2)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host, port = options["host"], _port(options["port"])
        # Before migrating and loading the demo: a port already taken (another servicepulse, another server)
        # would otherwise be announced as running, then end in gunicorn's retries and "exit code 1".
        _check_can_bind(host, port)
        # Links in e-mails, feeds, replies and embeds point here unless SERVICEPULSE_BASE_URL says otherwise
        # (behind a proxy or under a real host name); the children inherit it.
        if not os.environ.get("SERVICEPULSE_BASE_URL"):
            os.environ["SERVICEPULSE_BASE_URL"] = settings.BASE_URL = _local_url(host, port)
        call_command("migrate", interactive=False, verbosity=0)  # creates the cache table too (core.apps)
        from servicepulse.demo.selectors import demo_published_logins
        from servicepulse.demo.services import demo_load

        load_demo = not options["no_demo"] and not Service.objects.exists()
        demo_logins = demo_published_logins()
        if (load_demo or demo_logins) and not (_is_loopback(host) and settings.SERVICEPULSE_DEMO_ALLOWED):
            # The demo's passwords are in the README: its accounts are for this machine only.
            if demo_logins:
                names = ", ".join(name for name, _, _ in demo_logins)
                fix = f"{names}: `servicepulse manage changepassword NAME`, or `servicepulse users deactivate NAME`"
            elif settings.SERVICEPULSE_DEMO_ALLOWED:
                fix = "serve the demo on this machine only, or start an empty install with --no-demo"
            else:
                fix = "start an empty install with --no-demo"
            where = f"on {host}" if settings.SERVICEPULSE_DEMO_ALLOWED else "with production settings"
            raise CommandError(
                f"will not serve the demo's accounts {where}: their passwords are published ({fix})"
            )
        if load_demo:
            self.stderr.write("Loading the demo university (first run only)...")
            demo_load()
            demo_logins = demo_published_logins()

        url = _local_url(host, port) + "/"
        python = sys.executable
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ["DJANGO_SETTINGS_MODULE"]}
        children = {
            "web": subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
                [
                    python,
                    "-m",
                    "gunicorn",
                    "servicepulse.config.wsgi:application",
                    "--config",
                    "python:servicepulse.config.gunicorn",  # Ctrl-C stops the workers at once
                    "--no-control-socket",  # unused; two servers on one machine would share its one path
                    "--bind",
                    f"{host}:{port}",
                    "--workers",
                    str(options["web_workers"]),
                    "--threads",
                    "4",
                    "--access-logfile",
                    "-",
                    # A graceful stop (SIGTERM) lets a worker wait out gunicorn's 5 s for a silent connection's
                    # first bytes before the master kills it as if it were stuck.
                    "--graceful-timeout",
                    "10",
                    "--timeout",
                    "60",
                ],
                env=env,
                # Its own process group, with its workers: stopped, and killed if it must be, as one. Killing
                # the master alone would leave a worker holding the port.
                process_group=0,
            ),
            "worker": subprocess.Popen([python, "-m", "servicepulse.cli", "worker"], env=env),  # noqa: S603
            "scheduler": subprocess.Popen([python, "-m", "servicepulse.cli", "scheduler"], env=env),  # noqa: S603
            # Live streaming sources (Mastodon streaming, Bluesky Jetstream); idles when there are none.
            "stream": subprocess.Popen([python, "-m", "servicepulse.cli", "stream"], env=env),  # noqa: S603
        }
        self.stdout.write(f"\nservicepulse {settings.VERSION} is running at {url}")
        for username, password, role in demo_logins:
            self.stdout.write(f"  sign in as {username} / {password}  ({role})")
        if not demo_logins and not get_user_model().objects.filter(is_active=True).exists():
            # A first run for a real organisation (--no-demo): nobody can sign in until an admin exists.
            self.stdout.write(
                "  nobody can sign in yet: add the first admin in another terminal with\n"
                "    servicepulse users add NAME --role admin --email ADDR   (e-mails a link to choose a password)\n"
                "  or, without mail, `servicepulse users add NAME --role admin` then "
                "`servicepulse manage changepassword NAME`"
            )
        if options["no_demo"] and not os.environ.get("SERVICEPULSE_ORGANISATION"):
            self.stdout.write(
                f"  pages and e-mails name the organisation {settings.SERVICEPULSE_ORGANISATION!r} (the demo's): "
                "set SERVICEPULSE_ORGANISATION to yours (and SERVICEPULSE_TIME_ZONE if not Europe/London)"
            )
        self.stdout.write("Press Ctrl-C to stop.\n")
        self.stdout.flush()

        graceful = False  # a service manager's SIGTERM waits for the children; Ctrl-C is a quick stop

        def stop_on_sigterm(signum: int, frame: object) -> None:
            nonlocal graceful
            graceful = True
            raise KeyboardInterrupt  # a service manager's stop is a Ctrl-C: children are stopped cleanly

        def stop_on_hangup(signum: int, frame: object) -> None:
            raise KeyboardInterrupt  # a closed terminal is a Ctrl-C (the web server, in its own group, hears neither)

        signal.signal(signal.SIGTERM, stop_on_sigterm)
        signal.signal(signal.SIGHUP, stop_on_hangup)
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
            web = children["web"]
            if not graceful and web.poll() is None:
                # What Ctrl-C at the terminal would have sent the web server's master and workers: a quick stop.
                _signal_group(web, signal.SIGINT)
            for child in children.values():
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            # SIGTERM: beyond gunicorn's graceful timeout. Ctrl-C: a person waiting at the terminal. A worker
            # that has not stopped by then is in a task that ignores being told to stop (seen once in a few
            # dozen runs: 15 s, the moment the scheduler had queued its periodic jobs); it is killed, and
            # its task is put back on the queue by tasks_recover_orphans when servicepulse starts again.
            deadline = time.monotonic() + (15 if graceful else 3)
            for child in children.values():
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
            # A web worker its master left behind (the master killed above, or gone first) would hold the port.
            _signal_group(web, signal.SIGKILL)


def _signal_group(child: subprocess.Popen[Any], signum: signal.Signals) -> None:
    """Send `signum` to the process group `child` leads (started with ``process_group=0``), if any is left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signum)


def _port(option: int | None) -> int:
    """--port, else $PORT, else 8000; a one-line error for anything that is not a port number."""
    if option is not None:
        raw, where = str(option), "--port"
    else:
        raw, where = os.environ.get("PORT") or "8000", "PORT"
    try:
        port = int(raw)
    except ValueError:
        port = 0
    if not 0 < port < 65536:
        raise CommandError(f"{where} must be a port number from 1 to 65535 (got {raw!r})")
    return port


def _is_loopback(host: str) -> bool:
    """Whether `host` (an address or a name) is this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _check_can_bind(host: str, port: int) -> None:
    """A one-line CommandError, saying what to do, when gunicorn could not listen on `host`:`port`."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
            probe.bind(address)
    except socket.gaierror as exc:
        raise CommandError(
            f"cannot serve on {host}: {exc.strerror} (--host takes this machine's address)"
        ) from None
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise CommandError(
                f"cannot serve on {host}:{port}: the port is in use (another servicepulse or another server); "
                "stop it, or choose another port with --port N (or PORT=N)"
            ) from None
        raise CommandError(f"cannot serve on {host}:{port}: {exc.strerror}") from None


def _local_url(host: str, port: int) -> str:
    """The URL of `host`:`port` as a browser on this machine reaches it (a wildcard address is this machine)."""
    if host in ("0.0.0.0", ""):  # noqa: S104 - naming the wildcard, not binding to it
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"
