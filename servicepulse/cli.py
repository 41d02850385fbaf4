"""The `servicepulse` console command.

`servicepulse NAME args...` runs the management command NAME (hyphens become underscores), so each app adds
its commands in its own `management/commands/`. `servicepulse manage ...` reaches any Django command.

Before a servicepulse command runs, the database must be migrated: a fresh data directory gets a one-line
message saying how, not a "no such table" traceback. A command that does not need the database (or migrates
it itself, or only reads it optionally and says so) sets `needs_migrated_database = False` on its class.
"""

from __future__ import annotations

import os
import select
import sys
from difflib import get_close_matches
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.core.management.base import BaseCommand

# Names that cannot be module names (Python keywords) map to the command that implements them.
ALIASES = {"import": "import_mentions"}
USAGE = """usage: servicepulse COMMAND [options]

Common commands:
  run                 serve the web app with a worker and the scheduler (loads the demo on first run)
  import FILE         import mentions from JSON Lines or CSV
  stats [--json]      counts of mentions, quarantine and sources
  sources ...         add, change, sync and remove sources; their quarantine (see `servicepulse sources --help`)
  worker              run background tasks (--until-idle drains the queue and exits)
  scheduler           enqueue periodic jobs (one per deployment; others stand by)
  stream              consume streaming sources live (exactly one per deployment; runs until stopped)
  users ...           add people, list them, give roles (see `servicepulse users --help`)
  manage ...          any Django management command (migrate, createsuperuser, ...)

All commands, one line each: servicepulse help
A command's arguments: servicepulse COMMAND --help (or servicepulse help COMMAND)
"""
# One line per command for `servicepulse help`, as a sysadmin would look for it. A command's own `help` is a
# paragraph (its --help), too long for a list; a command missing here falls back to its first sentence, and a
# test fails until it gets a line.
SUMMARIES = {
    "analyze": "classify the texts of a CSV file into another CSV (complaint, sentiment, spam, services)",
    "catalog": "load the service catalogue from YAML, or export it",
    "crosspost_account": "turn cross-posting of blog posts on or off for a connected account",
    "dashboard_rollup": "recount the dashboard's daily figures (after bulk imports or retraining)",
    "demo_engage": "load only the inbox/status part of the demo (load-demo already does this)",
    "detect": "run the incident detector over a CSV series of counts (to tune sensitivity)",
    "digest": "group what peer sources posted in a week into topics; print or e-mail it",
    "draft_you_said_we_did": "draft the weekly 'You said, we did' blog post",
    "erase_author": "erase everything stored about one person (cannot be undone)",
    "export": "write the catalogue and every mention as JSON Lines for restore (not a backup of the database)",
    "export_author": "write everything held about one person as JSON (a subject access request)",
    "import_mentions": "import mentions from JSON Lines or CSV",
    "import_tickets": "import service-desk tickets from CSV",
    "import_wordpress": "import a WordPress export (WXR) into the blog",
    "load_demo": "load the demo university (users, catalogue, sources, posts, tickets)",
    "report": "build the weekly experience report: text, PDF or e-mail",
    "restore": "restore a file written by export",
    "run": "serve the web app with a worker and the scheduler (loads the demo on first run)",
    "scheduler": "enqueue periodic jobs (one per deployment; others stand by)",
    "screenshots": "capture screenshots of a running servicepulse's main pages (needs Chromium)",
    "sources": "add, change, sync and remove sources; their quarantine",
    "stats": "counts of mentions, quarantine and sources",
    "stream": "consume streaming sources live (runs until stopped)",
    "train": "retrain the classifiers from the development data and stored corrections",
    "users": "add people, list them, give roles, deactivate them",
    "worker": "run background tasks (--until-idle drains the queue and exits)",
}
MIGRATE_HINT = "run `servicepulse manage migrate` (or `servicepulse run`, which migrates)"
EXIT_USAGE = 2
EXIT_CONFIGURATION = 1
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for a command stopped by Ctrl-C
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what `yes | head` reports: the reader stopped early
# Django's options on every command (--settings "myproject.settings.main", --pythonpath, --version that prints
# Django's version...) still work but are left out of usage and --help, which then list the command's own.
DJANGO_BASE_OPTIONS = {
    "--version",
    "-v",
    "--settings",
    "--pythonpath",
    "--traceback",
    "--no-color",
    "--force-color",
}


def _user_name(command: str) -> str:
    """The name a user types for the management command `command` (what `servicepulse help` lists)."""
    reverse = {target: alias for alias, target in ALIASES.items()}
    return reverse.get(command, command.replace("_", "-"))


def _servicepulse_commands() -> dict[str, str]:
    """The servicepulse apps' management commands: command name -> app."""
    import django
    from django.core.management import get_commands

    django.setup()
    return {name: app for name, app in get_commands().items() if app.startswith("servicepulse")}


def _unknown(typed: str) -> None:
    names = sorted(_user_name(name) for name in _servicepulse_commands())
    close = get_close_matches(typed, [*names, "help", "manage"], n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    sys.stderr.write(f"unknown command {typed!r}{hint}; `servicepulse help` lists them\n")
    raise SystemExit(EXIT_USAGE)


def _summary(app: str, name: str) -> str:
    """The one line `servicepulse help` shows for the management command `name`."""
    if name in SUMMARIES:
        return SUMMARIES[name]
    from django.core.management import load_command_class

    text = " ".join(str(load_command_class(app, name).help).split())
    return text.split(". ", 1)[0].rstrip(".")


def _list_commands() -> None:
    entries = sorted(
        (_user_name(name), _summary(app, name)) for name, app in _servicepulse_commands().items()
    )
    entries.append(("manage", "any Django management command (migrate, createsuperuser, ...)"))
    width = max(len(name) for name, _ in entries) + 2
    sys.stdout.write("servicepulse commands:\n")
    for name, summary in entries:
        sys.stdout.write(f"  {name:<{width}}{summary}\n")
    sys.stdout.write("\nA command's arguments: servicepulse COMMAND --help\n")


def database_problem() -> str | None:
    """Why the default database cannot serve a command yet (unreachable, or migrations not applied), as one
    line ending in what to do; None when it is ready."""
    from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
    from django.db.migrations.executor import MigrationExecutor

    try:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exc:
        detail = (str(exc).strip().splitlines() or ["no detail"])[0]
        return f"cannot use the database ({exc.__class__.__name__}: {detail})"
    if not plan:
        return None
    if not executor.loader.applied_migrations:
        return f"the database is not set up yet; {MIGRATE_HINT}"
    return f"the database needs {len(plan)} migration(s) applied; {MIGRATE_HINT}"


def _run_command(typed: str, argv: list[str]) -> None:
    from django.core.management import load_command_class

    commands = _servicepulse_commands()
    name = ALIASES.get(typed, typed.replace("-", "_"))
    app = commands.get(name)
    if app is None:
        _unknown(typed)
        return
    command: BaseCommand = load_command_class(app, name)
    command.suppressed_base_arguments = DJANGO_BASE_OPTIONS
    wants_help = any(arg in {"-h", "--help"} for arg in argv)
    if getattr(command, "needs_migrated_database", True) and not wants_help:
        # A mistake in the arguments is reported (usage, exit 2) before the database is looked at. Parsing as
        # from the command line makes it the usage line and exit 2, not a CommandError traceback.
        command._called_from_command_line = True  # type: ignore[attr-defined]  # what run_from_argv sets
        command.create_parser("servicepulse", _user_name(name)).parse_args(argv)
        problem = database_problem()
        if problem:
            sys.stderr.write(f"CommandError: {problem}\n")
            raise SystemExit(1)
    # The parser's program name is "ARGV0 ARGV1": `usage: servicepulse import ...`, as the user typed it.
    command.run_from_argv(["servicepulse", _user_name(name), *argv])


def main(argv: list[str] | None = None) -> None:
    from servicepulse.config.env import ConfigurationError

    args = list(sys.argv[1:] if argv is None else argv)
    try:
        _main(args)
    except ConfigurationError as exc:
        # Settings are read when a command first needs Django: a missing or bad variable is one line, whatever
        # the command, not a traceback through Django's start-up.
        sys.stderr.write(f"error: {exc}\n")
        raise SystemExit(EXIT_CONFIGURATION) from None
    except KeyboardInterrupt:
        # Ctrl-C during long work (an import, a restore, the demo): work is committed batch by batch or in one
        # transaction, so what is stored is whole and running the command again carries on.
        if "--traceback" in args:
            raise
        sys.stderr.write("\ninterrupted\n")
        raise SystemExit(EXIT_INTERRUPTED) from None
    except BrokenPipeError:
        if not _stdout_reader_gone():  # another pipe or socket broke: that is a real error
            raise
        # The reader of stdout went away (`servicepulse export | head`): stop quietly as other tools do. Point
        # stdout at /dev/null so the interpreter's last flush at exit does not complain once more.
        _silence_stdout()
        raise SystemExit(EXIT_BROKEN_PIPE) from None


def _stdout_reader_gone() -> bool:
    """Whether stdout is a pipe nobody reads any more (the write end of such a pipe polls as an error)."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (OSError, ValueError, AttributeError):  # stdout closed or not a file; no poll() on this platform
        return True


def _silence_stdout() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout already closed, or not a file
        pass
    finally:
        os.close(devnull)


def _main(args: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicepulse.config.settings.dev")

    if not args or args[0] in {"-h", "--help"}:
        sys.stdout.write(USAGE)
        return
    if args[0] == "--version":
        from servicepulse import __version__

        sys.stdout.write(f"servicepulse {__version__}\n")
        return
    if args[0] == "help":
        if len(args) > 1:  # `servicepulse help import` is `servicepulse import --help` (manage too)
            _main([args[1], "--help"])
            return
        _list_commands()
        return
    if args[0] == "manage":
        from django.core.management import execute_from_command_line, get_commands

        typed = args[1] if len(args) > 1 else ""
        if typed and not typed.startswith("-") and typed != "help":
            import django

            django.setup()
            if typed not in get_commands():
                # Django says so with exit 1; a mistyped command name is a usage error (2) like any other.
                close = get_close_matches(typed, list(get_commands()), n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                sys.stderr.write(
                    f"unknown command {typed!r}{hint}; `servicepulse manage help` lists Django's commands\n"
                )
                raise SystemExit(EXIT_USAGE)

        execute_from_command_line(["servicepulse manage", *args[1:]])
        return
    _run_command(args[0], args[1:])


if __name__ == "__main__":
    main()
