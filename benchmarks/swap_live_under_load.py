"""20 swaps between two revisions of example_project under steady load, served by gunicorn.

Run from the repository root with the test extra installed:

    python benchmarks/swap_live_under_load.py [--swaps 20] [--clients 4]

It builds a throwaway deploy root (two slots, real virtualenvs), serves the live link with
gunicorn started through django_deploykit.gunicorn_launcher, keeps CLIENTS threads requesting
the home page on loopback, and swaps live and stage SWAPS times (gunicorn adapter: USR2 re-exec,
then TERM to the old master; each swap verified through the revision endpoint). It prints
the failed requests (target: 0) and the p50/p99 latency while swapping against steady state.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from django.test import override_settings  # noqa: E402

from django_deploykit.swap_live import service  # noqa: E402
from tests.deployment import build_site, commit_heading_v2  # noqa: E402
from tests.servers import serve  # noqa: E402


class Load:
    def __init__(self, url: str, clients: int) -> None:
        self.url = url
        self.clients = clients
        self.samples: list[tuple[float, float, bool]] = []  # (start time, latency, ok)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(clients)]

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                with urllib.request.urlopen(self.url, timeout=10) as response:  # noqa: S310 (loopback)
                    response.read()
                    ok = response.status == 200
            except (urllib.error.URLError, OSError):
                ok = False
            with self._lock:
                self.samples.append((started, time.monotonic() - started, ok))

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def between(self, start: float, end: float) -> list[tuple[float, float, bool]]:
        return [sample for sample in self.samples if start <= sample[0] < end]


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def describe(name: str, samples: list[tuple[float, float, bool]]) -> tuple[float, float]:
    latencies = [latency * 1000 for _, latency, ok in samples if ok]
    failed = sum(1 for *_, ok in samples if not ok)
    p50, p99 = percentile(latencies, 0.50), percentile(latencies, 0.99)
    print(f"{name:<14} {len(samples):>8} {failed:>7} {p50:>9.2f} {p99:>9.2f} {max(latencies or [0]):>9.2f}")
    return p50, p99


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--swaps", type=int, default=20)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--steady", type=float, default=5.0, help="seconds of steady load before the swaps")
    args = parser.parse_args()

    base = Path(tempfile.mkdtemp(prefix="deploykit-bench-"))
    print(f"building a deploy root in {base} ...", flush=True)
    site = build_site(base)
    commit_heading_v2(site.source)
    site.update_slot("green")
    site.manage("live", "migrate", "-v0")
    serve(site, "live", "stage")
    reload = {
        "live": {"adapter": "gunicorn", "pidfile": "run/live.pid"},
        "stage": {"adapter": "gunicorn", "pidfile": "run/stage.pid"},
    }
    load = Load(site.url("live", "/"), args.clients)
    try:
        with override_settings(
            DEPLOYKIT_RELOAD=reload,
            DEPLOYKIT_LIVE_URL=site.url("live"),
            DEPLOYKIT_STAGE_URL=site.url("stage"),
        ):
            load.start()
            steady_start = time.monotonic()
            time.sleep(args.steady)
            swaps_start = time.monotonic()
            durations = []
            for number in range(1, args.swaps + 1):
                started = time.monotonic()
                outcome = service.swap(
                    site.root,
                    service.SwapOptions(project_subdir=Path("example_project"), gate=False),
                    lambda line: None,
                )
                durations.append(time.monotonic() - started)
                print(
                    f"swap {number:>2}/{args.swaps}: {outcome.after['live']} live in {durations[-1]:.2f} s",
                    flush=True,
                )
            swaps_end = time.monotonic()
            load.stop()
    finally:
        load.stop()
        site.stop_servers()

    print()
    print(f"{'phase':<14} {'requests':>8} {'failed':>7} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9}")
    steady_p50, steady_p99 = describe("steady", load.between(steady_start, swaps_start))
    swap_p50, swap_p99 = describe("during swaps", load.between(swaps_start, swaps_end))
    failed = sum(1 for *_, ok in load.samples if not ok)
    print()
    print(
        f"swaps: {args.swaps}, mean {statistics.mean(durations):.2f} s each (gunicorn USR2 re-exec + verification)"
    )
    print(f"ratio during swaps / steady: p50 {swap_p50 / steady_p50:.2f}x, p99 {swap_p99 / steady_p99:.2f}x")
    print(f"failed requests: {failed} (target 0)")
    print(json.dumps({"failed": failed, "steady_p50_ms": steady_p50, "swap_p99_ms": swap_p99}))


if __name__ == "__main__":
    main()
