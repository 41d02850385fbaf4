"""Demo replay benchmark of incident detection.

    python bench/bench_detection_demo.py [--seed N [N ...]] [--mode labels|pipeline|both] [--counts-only]

Replays the demo university's six weeks (the seeded generator in `servicepulse.demo`) and prints, for each
planted incident, the minutes from its onset to the first alert (the incident confirmed: what alert rules
send by default), and the number of incidents raised in the calm weeks (where nothing was planted; one
person ranting about printing is there on purpose). It prints the same two figures for the earlier
"possible problem" notice (the incident opened as possible: on the dashboard at once, and sent by alert
rules whose minimum state is "possible"), which comes sooner and more often.

- ``labels``: the detector alone, fed complaint counts per service from the generator's own labels (what
  the posts were written to be), and asked, as in the product, whether a possible incident's complaints name
  the same unusual thing (`explain.corroborator`; the generator's questions stand in for the negative posts
  that are not complaints, which it reads too); ``--counts-only`` leaves that question out. It measures
  the detector, not the understanding of posts. Several seeds (``--seed 1 2 3``) replay several generated
  six weeks, each with its own incidents' timing and wording.
- ``pipeline``: the live pipeline in a throw-away SQLite database: the demo is loaded, the analysis app
  analyses the posts, and `incidents.services.detection_backfill` runs detection over the six weeks as it
  would have run live. Skipped, saying why, while the analysis app offers no analysed posts.
"""

from __future__ import annotations

import argparse
import bisect
import os
import sys
import tempfile
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
END = datetime(2025, 11, 23, 18, 0, tzinfo=UTC)  # a fixed "now" so runs compare (a Sunday evening)
BUCKET = timedelta(minutes=15)


def _first_after(planted, stamps: list[datetime]) -> str:  # type: ignore[no-untyped-def]
    after = [a for a in stamps if planted.onset - timedelta(hours=1) <= a <= planted.end + timedelta(hours=2)]
    if not after:
        return "none"
    return f"{(min(after) - planted.onset).total_seconds() / 60:.0f} minutes after onset"


def _in_calm(stamps: dict[str, list[datetime]], calm: list[tuple[datetime, datetime]]) -> list:
    return [(sid, a) for sid, times in stamps.items() for a in times if any(lo <= a < hi for lo, hi in calm)]


def _report(
    incidents: list,
    alerts: dict[str, list[datetime]],
    possible: dict[str, list[datetime]],
    calm: list[tuple[datetime, datetime]],
    label: str,
) -> None:
    print(f"[{label}]")
    for planted in incidents:
        print(
            f"  {planted.id} ({planted.service_id}): first alert (confirmed) "
            f"{_first_after(planted, alerts.get(planted.service_id, []))}; possible-problem notice "
            f"{_first_after(planted, possible.get(planted.service_id, []))}"
        )
    in_calm = _in_calm(alerts, calm)
    print(f"  incidents raised in calm weeks: {len(in_calm)}" + (f" {in_calm}" if in_calm else ""))
    print(f"  alerts over six weeks, all services: {sum(len(v) for v in alerts.values())}")
    notices = _in_calm(possible, calm)
    print(
        f"  possible-problem notices in calm weeks: {len(notices)}; over six weeks, all services: "
        f"{sum(len(v) for v in possible.values())}"
    )


def _labelled(post, key: str, number: int):  # type: ignore[no-untyped-def]
    """A generated complaint as the analysis app would give it to detection, labelled right."""
    from servicepulse.analysis.selectors import AnalysedPost

    return AnalysedPost(
        mention_id=number,
        created_at=post.created_at,
        author_key=key,
        author=post.author,
        text=post.text,
        service_ids=(post.service,),
        complaint=True,
        sentiment=-1.0,
        spam=False,
    )


def run_labels(seed: int, *, corroborating: bool = True) -> None:
    from servicepulse.analysis.selectors import AnalysedPost
    from servicepulse.demo import generator
    from servicepulse.demo.catalog import DEMO_CATALOG
    from servicepulse.incidents import explain
    from servicepulse.incidents.calendar import Period, TermCalendar
    from servicepulse.incidents.detection import Detector, DetectorConfig, DetectorState
    from servicepulse.incidents.services import BASELINE_DAYS

    tz = ZoneInfo(generator.DEFAULT_TIME_ZONE)
    data = generator.generate(seed=seed, end=END, tz=tz)
    calendar = TermCalendar(Period(start=w.start, end=w.end, kind=w.kind) for w in data.calendar)
    counts: dict[str, dict[datetime, int]] = defaultdict(lambda: defaultdict(int))
    authors: dict[str, dict[datetime, set[str]]] = defaultdict(lambda: defaultdict(set))
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    labelled: list[AnalysedPost] = []  # the posts as the labels say, for the product's corroboration
    for post in sorted(data.posts, key=lambda p: p.created_at):
        if post.intent not in ("complaint", "question") or not post.service:
            continue
        key = f"{post.channel}:{post.author_id or post.author}"
        if post.intent == "question":
            # Not counted, but read by corroboration, as the product reads a negative post that is not a
            # complaint ("is there a known wi-fi problem in Hopkins Building?"): the labels' stand-in for it.
            labelled.append(replace(_labelled(post, key, len(labelled)), complaint=False))
            continue
        bucket = epoch + (post.created_at - epoch) // BUCKET * BUCKET
        counts[post.service][bucket] += 1
        authors[post.service][bucket].add(key)
        labelled.append(_labelled(post, key, len(labelled)))
    stamps = [p.created_at for p in labelled]

    def read(*, since: datetime, until: datetime, service_ids: list[str] | None = None) -> list[AnalysedPost]:
        found = labelled[bisect.bisect_left(stamps, since) : bisect.bisect_left(stamps, until)]
        return [p for p in found if service_ids is None or p.service_ids[0] in service_ids]

    own = {s["id"]: explain.service_words(s["name"], s["aliases"]) for s in DEMO_CATALOG["services"]}
    usual = explain.usual_words_reader(read, baseline=timedelta(days=BASELINE_DAYS))
    start = epoch + (data.start - epoch) // BUCKET * BUCKET
    alerts: dict[str, list[datetime]] = {}
    possible: dict[str, list[datetime]] = {}
    for service in sorted(counts):
        detector = Detector(config=DetectorConfig(bucket_minutes=15), calendar=calendar)
        moment = start
        before = detector.state
        while moment < data.end:
            # what the product asks of the posts when counts alone leave a possible incident open
            ask = explain.corroborator(
                service_id=service,
                own_words=own.get(service, set()),
                end=moment + BUCKET,
                size=BUCKET,
                min_authors=detector.config.min_authors,
                read=read,
                usual=usual,
            )
            # local time, as the product feeds it (incidents.services.run_detection)
            decision = detector.update(
                moment.astimezone(tz),
                counts[service][moment],
                authors[service][moment],
                ask if corroborating else None,
            )
            if decision.alert:
                alerts.setdefault(service, []).append(moment + BUCKET)  # decided when the bucket closes
            # The product opens an incident (as possible, or confirmed at once) when an episode begins.
            opened = decision.state in (DetectorState.POSSIBLE, DetectorState.CONFIRMED)
            if opened and before not in (DetectorState.POSSIBLE, DetectorState.CONFIRMED):
                possible.setdefault(service, []).append(moment + BUCKET)
            before = decision.state
            moment += BUCKET
    label = "detector on the generator's labels" + ("" if corroborating else ", counts only")
    _report(data.incidents, alerts, possible, data.calm_periods, f"{label}, seed {seed}")


def run_pipeline(seed: int) -> None:
    from django.core.management import call_command

    from servicepulse.analysis.selectors import analysed_posts
    from servicepulse.demo import generator
    from servicepulse.demo.services import demo_load
    from servicepulse.incidents.models import ActivityType, Incident, IncidentActivity, IncidentKind
    from servicepulse.incidents.services import detection_backfill

    call_command("migrate", verbosity=0)
    demo_load(seed=seed, end=END, detect=False)
    data_start = END - generator.SPAN
    if next(iter(analysed_posts(since=data_start, until=END)), None) is None:
        print("[live pipeline] skipped: the demo's posts were not analysed (no analysis batch run yet)")
        return
    detection_backfill(since=data_start, until=END)
    alerts: dict[str, list[datetime]] = defaultdict(list)
    for incident in Incident.objects.filter(kind=IncidentKind.DETECTED, confirmed_at__isnull=False):
        if incident.confirmed_at is not None:  # filtered above; said again for the type checker
            alerts[incident.service_id].append(incident.confirmed_at)
    possible: dict[str, list[datetime]] = defaultdict(list)
    for created in IncidentActivity.objects.filter(
        type=ActivityType.CREATED, incident__kind=IncidentKind.DETECTED
    ).select_related("incident"):
        possible[created.incident.service_id].append(created.at)  # detection time, not wall clock
    tz = ZoneInfo(generator.DEFAULT_TIME_ZONE)
    _report(
        generator.planted_incidents(end=END, tz=tz),
        dict(alerts),
        dict(possible),
        generator.calm_periods(end=END, tz=tz),
        f"live pipeline, seed {seed}",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, nargs="+", default=None)
    parser.add_argument("--mode", choices=["labels", "pipeline", "both"], default="both")
    parser.add_argument(
        "--counts-only", action="store_true", help="labels mode: do not ask whether the posts corroborate"
    )
    args = parser.parse_args()
    from servicepulse.demo import generator

    seeds = [generator.DEFAULT_SEED] if args.seed is None else args.seed
    if args.mode != "labels" and len(seeds) > 1:
        parser.error("the live pipeline replays one seed per run (--mode labels takes several)")
    with tempfile.TemporaryDirectory(prefix="sp-demo-bench-") as tmp:
        # One throw-away installation for both modes (the labels mode reads no database, but the product's
        # code it shares needs Django set up).
        os.environ["SERVICEPULSE_DATA_DIR"] = tmp
        os.environ.pop("DATABASE_URL", None)
        os.environ.setdefault("SERVICEPULSE_TASK_BACKEND", "immediate")
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicepulse.config.settings.dev")
        import django

        django.setup()
        if args.mode in ("labels", "both"):
            for seed in seeds:
                run_labels(seed, corroborating=not args.counts_only)
        if args.mode in ("pipeline", "both"):
            run_pipeline(seeds[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
