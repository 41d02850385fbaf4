"""Coverage-guided fuzzing with atheris: `python fuzz/run.py TARGET [--seconds N]` or `--all`.

Crashing inputs are written to fuzz/crashes/TARGET/ and replayed by tests/fuzz/test_regressions.py.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_one(target: str, seconds: int) -> int:
    crashes = ROOT / "fuzz" / "crashes" / target
    crashes.mkdir(parents=True, exist_ok=True)
    corpus = ROOT / "fuzz" / "corpus" / target
    corpus.mkdir(parents=True, exist_ok=True)
    # Django and its apps load first, uninstrumented; only what the targets import afterwards (the parsers)
    # is instrumented, which keeps start-up fast and the coverage signal about our code.
    code = (
        "import sys, atheris, django\n"
        "django.setup()\n"
        "with atheris.instrument_imports(include=['servicepulse']):\n"
        "    from fuzz.targets import TARGETS\n"
        f"atheris.Setup(sys.argv, TARGETS[{target!r}])\n"
        "atheris.Fuzz()\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "servicepulse.config.settings.test",
        "PYTHONPATH": str(ROOT),
    }
    args = [
        sys.executable,
        "-c",
        code,
        f"-max_total_time={seconds}",
        f"-artifact_prefix={crashes}/",
        "-rss_limit_mb=4096",
        "-print_final_stats=1",
        str(corpus),
    ]
    print(f"== fuzzing {target} for {seconds}s", flush=True)
    result = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True)
    stats = [
        line
        for line in result.stderr.splitlines()
        if line.startswith(("stat::number_of_executed_units", "=="))
    ]
    print("\n".join(stats[-3:]) or result.stderr[-2000:])
    if result.returncode != 0:
        print(result.stderr[-4000:], file=sys.stderr)
    return result.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("target", nargs="?")
    parser.add_argument("--all", action="store_true")
    parser.add_argument("--seconds", type=int, default=60)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicepulse.config.settings.test")
    sys.path.insert(0, str(ROOT))
    from fuzz.targets import TARGETS

    names = sorted(TARGETS) if args.all or not args.target else [args.target]
    failures = [name for name in names if run_one(name, args.seconds) != 0]
    if failures:
        print(f"crashes in: {', '.join(failures)} (inputs in fuzz/crashes/)", file=sys.stderr)
        return 1
    print(f"fuzzing clean: {len(names)} targets x {args.seconds}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
