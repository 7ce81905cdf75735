"""Clear one instance's keys from a busy Redis: clear_cache vs django-redis delete_pattern vs FLUSHDB.

    python benchmarks/clear_cache_redis.py [--keys 1000000] [--share 0.1] [--redis-url URL]

Fills its own Redis database (12 by default; it must be empty) with ``--keys`` keys, of
which ``--share`` are under this instance's prefix, then for each method, on a fresh fill:
the time to clear, the worst latency a separate process saw while PINGing in a loop, the
worst event of Redis's own latency monitor, and how many keys of others survived. The
database is emptied at the end. Not part of the test suite; numbers vary with the machine.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event

import redis

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from django_deploykit.cache_clearing import redis as ours
from django_deploykit.cache_clearing.namespace import Namespace

PREFIX = "bench_blue"
OTHER_PREFIX = "bench_green"
VALUE = b"x" * 100
FILL_PIPELINE = 10_000
TARGET_WORST_PROBE_MS = 20.0


@dataclass
class Outcome:
    name: str
    seconds: float
    deleted: int
    worst_probe_ms: float
    probes: int
    redis_latency_ms: int
    others_left: int
    others_expected: int


def fill(client: redis.Redis, keys: int, share: float) -> int:
    """Write ``keys`` keys, ``share`` of them ours; return how many are someone else's."""
    mine = int(keys * share)
    pipe = client.pipeline(transaction=False)
    for i in range(keys):
        if i < mine:
            pipe.set(f"{PREFIX}:1:page{i}", VALUE)
        elif i % 2:
            pipe.set(f"{OTHER_PREFIX}:1:page{i}", VALUE)
        else:
            pipe.set(f"celery-task-meta-{i}", VALUE)  # unprefixed keys of another program
        if len(pipe) >= FILL_PIPELINE:
            pipe.execute()
    pipe.execute()
    return keys - mine


def probe(url: str, started: Event, stop: Event, results: Connection) -> None:
    client = redis.Redis.from_url(url)
    client.ping()
    worst = 0.0
    count = 0
    started.set()
    while not stop.is_set():
        begin = time.perf_counter()
        client.ping()
        worst = max(worst, time.perf_counter() - begin)
        count += 1
    results.send((worst * 1000, count))


def redis_latency_ms(client: redis.Redis) -> int:
    """The worst event in Redis's latency monitor since the last LATENCY RESET."""
    latest = client.execute_command("LATENCY", "LATEST")
    return max((int(event[3]) for event in latest), default=0)


def measure(name: str, url: str, client: redis.Redis, others: int, operation: Callable[[], int]) -> Outcome:
    client.execute_command("LATENCY", "RESET")
    started, stop = multiprocessing.Event(), multiprocessing.Event()
    receiver, sender = multiprocessing.Pipe(duplex=False)
    pinger = multiprocessing.Process(target=probe, args=(url, started, stop, sender))
    pinger.start()
    started.wait(10)
    time.sleep(0.2)  # a baseline of quiet pings before the operation
    begin = time.perf_counter()
    deleted = operation()
    seconds = time.perf_counter() - begin
    time.sleep(0.2)
    stop.set()
    worst, count = receiver.recv()
    pinger.join()
    others_left = sum(1 for _ in client.scan_iter(count=10_000)) - sum(
        1 for _ in client.scan_iter(match=f"{PREFIX}:*", count=10_000)
    )
    return Outcome(name, seconds, deleted, worst, count, redis_latency_ms(client), others_left, others)


def django_redis_delete_pattern(url: str) -> Callable[[], int]:
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            CACHES={
                "default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": url, "KEY_PREFIX": PREFIX}
            }
        )
        django.setup()
    from django.core.cache import cache

    # The same SCAN COUNT as ours; its default (10) would only make it slower.
    return lambda: int(cache.delete_pattern("*", itersize=1000))  # type: ignore[attr-defined]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--share", type=float, default=0.1, help="Fraction of the keys under our prefix.")
    parser.add_argument("--batch", type=int, default=1000, help="clear_cache's --batch.")
    parser.add_argument(
        "--redis-url", default=os.environ.get("DEPLOYKIT_BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
    )
    args = parser.parse_args()

    client = redis.Redis.from_url(args.redis_url)
    if client.dbsize():
        print(f"The benchmark database {args.redis_url} is not empty; pick an empty one with --redis-url.")
        return 1
    threshold = client.config_get("latency-monitor-threshold")["latency-monitor-threshold"]
    client.config_set("latency-monitor-threshold", 1)
    namespace = Namespace(PREFIX, None)
    methods: list[tuple[str, Callable[[], int]]] = [
        (
            f"clear_cache (SCAN + UNLINK, batch {args.batch})",
            lambda: ours.clear_namespace(client, namespace, batch=args.batch, dry_run=False),
        ),
        ("django-redis delete_pattern", django_redis_delete_pattern(args.redis_url)),
        ("FLUSHDB", lambda: int(bool(client.flushdb()))),
    ]
    outcomes = []
    try:
        for name, operation in methods:
            print(f"filling {args.keys} keys ({args.share:.0%} ours)…", flush=True)
            others = fill(client, args.keys, args.share)
            print(f"measuring {name}…", flush=True)
            outcomes.append(measure(name, args.redis_url, client, others, operation))
            client.flushdb()
    finally:
        client.flushdb()
        client.config_set("latency-monitor-threshold", threshold)

    base = outcomes[0]
    print()
    version = client.info("server")["redis_version"]
    print(f"{args.keys} keys, {args.share:.0%} under '{PREFIX}:'; Redis {version}")
    header = f"{'method':<40} {'time s':>8} {'x ours':>7} {'worst ping ms':>14} {'x ours':>7} "
    header += f"{'LATENCY ms':>11} {'others left':>17}"
    print(header)
    for o in outcomes:
        print(
            f"{o.name:<40} {o.seconds:>8.2f} {o.seconds / base.seconds:>7.1f} {o.worst_probe_ms:>14.1f} "
            f"{o.worst_probe_ms / max(base.worst_probe_ms, 0.001):>7.1f} {o.redis_latency_ms:>11} "
            f"{o.others_left:>8}/{o.others_expected:<8}"
        )
    verdict = "met" if base.worst_probe_ms <= TARGET_WORST_PROBE_MS else "NOT met"
    untouched = "yes" if base.others_left == base.others_expected else "NO"
    print(f"\ntarget worst probe latency <= {TARGET_WORST_PROBE_MS:.0f} ms for clear_cache: {verdict}")
    print(f"every other key untouched by clear_cache: {untouched}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
