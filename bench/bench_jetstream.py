"""Jetstream consumer throughput with its prefilter, on one core.

    python bench/bench_jetstream.py [--events 100000] [--match-every 100]

A separate process serves recorded-shape Jetstream messages (commit/create posts, likes, identity and account
events, as in `servicepulse/sources/connectors/bluesky/fixtures/jetstream_events.jsonl`) from a local
WebSocket server as fast as it can. This process, pinned to one CPU, runs the real Bluesky connector's
`stream()` (websockets client, prefilter, batched idempotent stores, cursor) against a fresh SQLite
database, then checks that every matching post was stored exactly once and nothing else was. Prints the
events per second (target: at least 2,000/s).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET = 2000.0
T0 = 1795640400000000  # 2026-11-25T21:00:00Z in microseconds
ORG = "did:plc:northfieldituni0000000000"
TEXTS = [
    "lovely sunset over the harbour tonight",
    "anyone watching the match later?",
    "new blog post about sourdough starters",
    "my cat is called Moodles and she is ridiculous",
    "the train was late again, classic Monday",
    "reading a great book about lighthouses",
]
MATCHING = [
    "is moodle down for anyone else?? assignment due at midnight",
    "Eduroam dead in the Harper building again #NorthfieldIT",
    "the VPN portal is unreachable from halls",
    "Moodle is back, submitted with 3 minutes to spare",
]


def build_events(count: int, match_every: int) -> tuple[list[str], set[str]]:
    """Messages in Jetstream's shape, and the at-URIs of the posts the prefilter must keep."""
    events: list[str] = []
    expected: set[str] = set()
    for i in range(count):
        did = f"did:plc:{i % 997:024d}"
        time_us = T0 + i * 50
        if i % 20 == 7:
            identity = {"did": did, "handle": f"user{i}.bsky.social", "seq": 1409752997 + i,
                        "time": "2026-11-25T21:00:08.000Z"}  # fmt: skip
            event = {"did": did, "time_us": time_us, "kind": "identity", "identity": identity}
            events.append(json.dumps(event, separators=(",", ":")))
            continue
        if i % 20 == 13:
            subject = {"cid": "bafyreib0", "uri": f"at://{did}/app.bsky.feed.post/3lbpost000001"}
            like = {
                "$type": "app.bsky.feed.like",
                "createdAt": "2026-11-25T21:00:07.000Z",
                "subject": subject,
            }
            commit = {"rev": f"3lbrev{i:07d}", "operation": "create", "collection": "app.bsky.feed.like",
                      "rkey": f"3lblike{i:06d}", "record": like, "cid": f"bafyreilike{i:040d}"}  # fmt: skip
            event = {"did": did, "time_us": time_us, "kind": "commit", "commit": commit}
            events.append(json.dumps(event, separators=(",", ":")))
            continue
        matching = i % match_every == 0
        record: dict[str, object] = {
            "$type": "app.bsky.feed.post",
            "createdAt": "2026-11-25T21:00:05.000Z",
            "langs": ["en"],
            "text": MATCHING[(i // match_every) % len(MATCHING)] if matching else TEXTS[i % len(TEXTS)],
        }
        if matching and (i // match_every) % len(MATCHING) == 2:
            record["facets"] = [{"features": [{"$type": "app.bsky.richtext.facet#mention", "did": ORG}],
                                 "index": {"byteStart": 0, "byteEnd": 3}}]  # fmt: skip
        rkey = f"3lb{i:010d}"
        events.append(json.dumps({"did": did, "time_us": time_us, "kind": "commit", "commit": {
            "rev": f"3lbrev{i:07d}", "operation": "create", "collection": "app.bsky.feed.post", "rkey": rkey,
            "record": record, "cid": f"bafyreib{i:051d}"}}, separators=(",", ":")))  # fmt: skip
        if matching:
            expected.add(f"at://{did}/app.bsky.feed.post/{rkey}")
    return events, expected


def serve(events: list[str], port_queue: multiprocessing.Queue, cpu: int | None) -> None:
    """The Jetstream stand-in: send every event to each connection, then close normally."""
    from websockets.sync.server import serve as ws_serve

    if cpu is not None:
        os.sched_setaffinity(0, {cpu})

    def handler(websocket: object) -> None:
        send = websocket.send  # type: ignore[attr-defined]
        for message in events:
            send(message)

    with ws_serve(handler, "127.0.0.1", 0, compression=None, max_size=None) as server:
        port_queue.put(server.socket.getsockname()[1])
        server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--match-every", type=int, default=100, help="one post in N matches (default 1%%)")
    args = parser.parse_args()

    cpus = sorted(os.sched_getaffinity(0))
    consumer_cpu = cpus[0]
    server_cpu = cpus[1] if len(cpus) > 1 else None
    events, expected = build_events(args.events, args.match_every)

    data_dir = tempfile.mkdtemp(prefix="servicepulse-bench-jetstream-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "servicepulse.config.settings.test"
    os.environ["SERVICEPULSE_DATA_DIR"] = data_dir
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from servicepulse.mentions.models import Mention, Quarantine
    from servicepulse.sources.registry import connector_for
    from servicepulse.sources.services import source_create, source_set_cursor

    queue: multiprocessing.Queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(events, queue, server_cpu), daemon=True)
    server.start()
    port = queue.get(timeout=30)
    try:
        source = source_create(
            kind="bluesky",
            name="bench",
            options={
                "keywords": "moodle,vpn",
                "hashtags": "NorthfieldIT",
                "account_did": ORG,
                "jetstream_url": f"ws://127.0.0.1:{port}/subscribe",
            },
        )
        source_set_cursor(source=source, cursor={"time_us": T0})
        os.sched_setaffinity(0, {consumer_cpu})
        connector = connector_for(source)
        cpu_start, wall_start = time.process_time(), time.perf_counter()
        connector.stream(stop=threading.Event(), max_reconnects=0)
        wall = time.perf_counter() - wall_start
        cpu = time.process_time() - cpu_start
    finally:
        server.terminate()
        server.join(timeout=5)

    stored = set(Mention.objects.filter(source=source).values_list("external_id", flat=True))
    lost = len(expected - stored)
    extra = len(stored - expected)
    source.refresh_from_db()
    caught_up = source.cursor.get("time_us") == T0 + (args.events - 1) * 50
    rate = args.events / wall
    print(
        f"jetstream consumer (prefilter on, one core): {args.events} events in {wall:.2f} s = "
        f"{rate:,.0f} events/s (target >= {TARGET:,.0f}/s; consumer CPU {cpu:.2f} s = "
        f"{args.events / max(cpu, 1e-9):,.0f} events per CPU-second); "
        f"matching posts {len(expected)}, stored {len(stored)}, lost {lost}, extra {extra}, "
        f"quarantined {Quarantine.objects.filter(source=source).count()}, cursor at last event: {caught_up}"
    )
    from django.db import connections

    connections.close_all()
    shutil.rmtree(data_dir, ignore_errors=True)
    if lost or extra or not caught_up or rate < TARGET:
        sys.exit(1)


if __name__ == "__main__":
    main()
