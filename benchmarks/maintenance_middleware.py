"""What MaintenanceMiddleware costs while idle, next to django-maintenance-mode.

Run from the repository root, in an environment with the ``bench`` extra::

    pip install -e '.[bench]'
    python benchmarks/maintenance_middleware.py [--requests 20000] [--repeats 7]

One process, one project, one URL. It times:

* each middleware's own call, alone (a request object reused, the view a constant);
* full requests through Django's WSGI handler with no maintenance middleware, with ours
  idle, and with django-maintenance-mode idle (its default file backend).

Configurations are interleaved and the best repeat of each is kept, which removes most of
the noise of a shared machine. Nothing here asserts: it prints numbers and ratios.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import django
from django.conf import settings
from django.http import HttpRequest, HttpResponse

TARGET_ADDED_US = 2.0
TARGET_RATIO = 10.0
OURS = "django_deploykit.maintenance.middleware.MaintenanceMiddleware"
PEER = "maintenance_mode.middleware.MaintenanceModeMiddleware"


def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"<html><body>hello</body></html>")


def configure(state_dir: Path) -> None:
    urls = ModuleType("bench_urls")
    from django.urls import path

    urls.urlpatterns = [path("", hello)]  # type: ignore[attr-defined]
    sys.modules["bench_urls"] = urls
    settings.configure(
        SECRET_KEY="benchmark-only",  # noqa: S106 - a throwaway process
        DEBUG=False,
        ALLOWED_HOSTS=["*"],
        USE_TZ=True,
        ROOT_URLCONF="bench_urls",
        INSTALLED_APPS=["django_deploykit", "maintenance_mode"],
        MIDDLEWARE=[],
        DATABASES={},
        DEPLOYKIT_MAINTENANCE_STATE_FILE=str(state_dir / "deploykit-maintenance.json"),
        DEPLOYKIT_REQUIRE_DISPATCHER=False,
        MAINTENANCE_MODE_STATE_FILE_PATH=str(state_dir / "maintenance_mode_state.txt"),
    )
    django.setup()
    from maintenance_mode.core import set_maintenance_mode

    set_maintenance_mode(False)


def best_per_call_us(call: Callable[[], object], requests: int) -> float:
    start = time.perf_counter_ns()
    for _ in range(requests):
        call()
    return (time.perf_counter_ns() - start) / requests / 1000


def wsgi_caller(middleware: list[str]) -> Callable[[], object]:
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import RequestFactory

    settings.MIDDLEWARE = middleware
    handler = WSGIHandler()
    environ = RequestFactory()._base_environ(PATH_INFO="/", REQUEST_METHOD="GET")

    def start_response(status: str, headers: list[Any]) -> None:
        return None

    def call() -> object:
        from io import BytesIO

        env = dict(environ, **{"wsgi.input": BytesIO()})
        response = handler(env, start_response)
        body = b"".join(response)
        response.close()
        return body

    return call


def alone_caller(path: str) -> Callable[[], object]:
    from django.test import RequestFactory
    from django.utils.module_loading import import_string

    response = HttpResponse(b"hello")
    middleware = import_string(path)(lambda request: response)
    request = RequestFactory().get("/")
    return lambda: middleware(request)


def run(configs: dict[str, Callable[[], object]], requests: int, repeats: int) -> dict[str, float]:
    results: dict[str, list[float]] = {name: [] for name in configs}
    for call in configs.values():
        best_per_call_us(call, max(1, requests // 10))  # warm-up
    for _ in range(repeats):
        for name, call in configs.items():
            results[name].append(best_per_call_us(call, requests))
    return {name: min(times) for name, times in results.items()} | {
        f"{name} (median)": statistics.median(times) for name, times in results.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20000, help="Calls per timed batch.")
    parser.add_argument("--repeats", type=int, default=7, help="Batches per configuration; the best is kept.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as state_dir:
        configure(Path(state_dir))
        noop = HttpResponse(b"hello")
        alone = run(
            {
                "baseline (view only)": lambda: (lambda request: noop)(None),
                "ours": alone_caller(OURS),
                "django-maintenance-mode": alone_caller(PEER),
            },
            args.requests,
            args.repeats,
        )
        wsgi = run(
            {
                "no maintenance middleware": wsgi_caller([]),
                "ours": wsgi_caller([OURS]),
                "django-maintenance-mode": wsgi_caller([PEER]),
            },
            args.requests // 4,
            args.repeats,
        )
    import maintenance_mode

    print(
        f"django {django.get_version()}, django-maintenance-mode {maintenance_mode.__version__}, "
        f"python {sys.version.split()[0]}; best of {args.repeats} batches"
    )
    print()
    print("The middleware's own call, alone (µs per call)")
    base = alone["baseline (view only)"]
    ours_alone = alone["ours"] - base
    peer_alone = alone["django-maintenance-mode"] - base
    print(f"  {'baseline (view only)':<28}{base:8.3f}")
    print(f"  {'ours, idle':<28}{alone['ours']:8.3f}   (+{ours_alone:.3f} over the baseline)")
    print(f"  {'django-maintenance-mode':<28}{alone['django-maintenance-mode']:8.3f}   (+{peer_alone:.3f})")
    print(f"  ratio django-maintenance-mode / ours: {peer_alone / ours_alone:.1f}x")
    print()
    print("Requests through Django's WSGI handler (µs per request)")
    none = wsgi["no maintenance middleware"]
    ours_added = wsgi["ours"] - none
    peer_added = wsgi["django-maintenance-mode"] - none
    print(f"  {'no maintenance middleware':<28}{none:8.2f}")
    print(f"  {'ours, idle':<28}{wsgi['ours']:8.2f}   (adds {ours_added:+.2f})")
    print(
        f"  {'django-maintenance-mode':<28}{wsgi['django-maintenance-mode']:8.2f}   (adds {peer_added:+.2f})"
    )
    print(
        "  ratio of the added cost, django-maintenance-mode / ours: "
        + (f"{peer_added / ours_added:.1f}x" if ours_added > 0.05 else "ours is below the noise (< 0.05 µs)")
    )
    print()
    added = max(ours_alone, ours_added)
    ratio = peer_alone / ours_alone
    verdict = "met" if added <= TARGET_ADDED_US else "NOT met"
    print(f"Target: ours adds <= {TARGET_ADDED_US} µs -> {added:.2f} µs: {verdict}")
    print(
        f"Target: >= {TARGET_RATIO:.0f}x cheaper (middleware alone) -> {ratio:.1f}x: "
        f"{'met' if ratio >= TARGET_RATIO else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
