"""The `servicepulse` console command.

`servicepulse NAME args...` runs the management command NAME (hyphens become underscores), so each app adds
its commands in its own `management/commands/`. `servicepulse manage ...` reaches any Django command.
"""

from __future__ import annotations

import os
import sys

# Names that cannot be module names (Python keywords) map to the command that implements them.
ALIASES = {"import": "import_mentions"}
USAGE = """usage: servicepulse COMMAND [options]

Common commands:
  run                 serve the web app with a worker and the scheduler (loads the demo on first run)
  import FILE         import mentions from JSON Lines or CSV
  stats [--json]      counts of mentions, quarantine and sources
  sources ...         add, list, sync and remove sources (see `servicepulse sources --help`)
  worker              run background tasks (--until-idle drains the queue and exits)
  scheduler           enqueue periodic jobs (one per deployment)
  manage ...          any Django management command (migrate, createsuperuser, ...)

All commands: servicepulse help
"""


def _servicepulse_commands() -> list[str]:
    import django
    from django.core.management import get_commands

    django.setup()
    names = [name for name, app in get_commands().items() if app.startswith("servicepulse")]
    reverse = {command: alias for alias, command in ALIASES.items()}
    return sorted(reverse.get(name, name.replace("_", "-")) for name in names)


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicepulse.config.settings.dev")
    from django.core.management import execute_from_command_line

    if not args or args[0] in {"-h", "--help"}:
        sys.stdout.write(USAGE)
        return
    if args[0] == "--version":
        from servicepulse import __version__

        sys.stdout.write(f"servicepulse {__version__}\n")
        return
    if args[0] == "help":
        sys.stdout.write("servicepulse commands:\n")
        for name in _servicepulse_commands():
            sys.stdout.write(f"  {name}\n")
        return
    if args[0] == "manage":
        execute_from_command_line(["servicepulse manage", *args[1:]])
        return
    command = ALIASES.get(args[0], args[0].replace("-", "_"))
    execute_from_command_line([f"servicepulse {args[0]}", command, *args[1:]])


if __name__ == "__main__":
    main()
