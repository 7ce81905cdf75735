"""The deploy console's history page with 10,000 recorded runs, and what one poll of a live run's page reads.

Run from the repository root with the test extra installed:

    python benchmarks/console_history.py [--runs 10000] [--requests 50] [--polls 100] [--log-mb 20]

One process, one deploy root (example_project, no virtualenvs), Django configured as tests/console's
conftest does (SQLite in memory, a user with the console's view right, signed in by a session cookie).
Requests go through Django's WSGI handler; "server time" is the handler's call until the body is
joined and closed.

* The history page: GET /-/deploykit/console/history/ over ``--runs`` recorded runs (deploys with a
  "started" line and their outcome, pulls, swaps; refs, stages, next steps, five users), median and
  p95 after a warm-up, side by side with ``manage.py deploy_log --last 50`` in-process: the same file
  read and parsed, the same 50 newest records, as text instead of a page behind sign-in and rights.
  Target: under 100 ms.
* A poll of a live run's page: a deploy whose running stage has a ``--log-mb`` log that grows between
  polls, and whose progress file is rewritten every tenth poll. Bytes read per poll are the process's
  ``rchar`` (/proc/self/io) around each request; the files opened come from an audit hook. Side by side
  a naive poll, written here only, behind the same sign-in: it reads the whole history and the whole
  log each time. Target: one small read per poll (the new bytes of the log, plus the progress file
  only when it changed).

Nothing here asserts: it prints numbers, ratios and whether each target is met.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import tempfile
import textwrap
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from io import BytesIO, StringIO
from pathlib import Path
from types import ModuleType
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

import django  # noqa: E402
from django.conf import settings  # noqa: E402

TARGET_PAGE_MS = 100.0
CONSOLE = "/-/deploykit/console/"
USERS = ("alice", "bob", "carol", "deploy-bot", "dmitri")
STAGES = ("lock", "git", "dependencies", "collectstatic", "migrate", "checks", "reload-and-record")
PEER_WHY = (
    "deploy_log reads and parses the same history.jsonl and lists the same 50 newest runs, as text and "
    "without sign-in, rights or a template: what is left of the page's time once the unavoidable read "
    "is taken out. There is no history table, so no admin changelist to compare with."
)


# Opening files, as the audit hook sees them: (path, counted) while a request is measured.
_opened: list[str] = []
_watching = [False]


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _watching[0] and event == "open" and isinstance(args[0], str | Path):
        _opened.append(str(args[0]))


def rchar() -> int:
    """The bytes this process has read so far (files, pipes, sockets), as the kernel counts them."""
    with open("/proc/self/io", "rb") as handle:
        for line in handle:
            if line.startswith(b"rchar:"):
                return int(line.split()[1])
    raise SystemExit("No rchar in /proc/self/io: this benchmark needs Linux.")


def rchar_of_rchar() -> int:
    """What reading /proc/self/io itself adds to the next reading: taken off every request's count."""
    readings = [rchar() for _ in range(5)]
    return min(after - before for before, after in itertools.pairwise(readings))


def configure(root_path: Path, state_dir: Path) -> None:
    from django.urls import include, path

    urls = ModuleType("bench_console_urls")
    sys.modules["bench_console_urls"] = urls
    settings.configure(
        SECRET_KEY="benchmark-only",  # noqa: S106 - a throwaway process
        DEBUG=False,
        ALLOWED_HOSTS=["*"],
        USE_TZ=True,
        TIME_ZONE="UTC",
        ROOT_URLCONF="bench_console_urls",
        LOGIN_URL="/accounts/login/",
        INSTALLED_APPS=[
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "django_deploykit",
        ],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        MIDDLEWARE=[
            "django_deploykit.maintenance.middleware.MaintenanceMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
        ],
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "DIRS": [],
                "APP_DIRS": True,
                "OPTIONS": {
                    "context_processors": [
                        "django.template.context_processors.request",
                        "django.contrib.auth.context_processors.auth",
                    ]
                },
            }
        ],
        DEPLOYKIT_ROOT=str(root_path),
        DEPLOYKIT_PROJECT_SUBDIR="example_project",
        DEPLOYKIT_MAINTENANCE_STATE_FILE=str(state_dir / "maintenance.json"),
        DEPLOYKIT_REQUIRE_DISPATCHER=False,
    )
    django.setup()
    from django.views.decorators.http import require_GET

    from django_deploykit.console_views import console_view

    urls.urlpatterns = [  # type: ignore[attr-defined]
        path("-/deploykit/", include("django_deploykit.urls")),
        path("-/deploykit/console/", include("django_deploykit.console_urls")),
        path("naive/runs/<str:run_id>/poll/", require_GET(console_view("view")(naive_poll))),
    ]


def naive_poll(request: Any, root: Any, subdir: Path, run_id: str) -> Any:
    """The poll a first version might write: the whole history for the run's record, the progress file,
    and the whole log, of which only the bytes from ``offset`` are sent."""
    from django.http import JsonResponse

    from django_deploykit.deploy_root import history, progress

    record = None
    for each in history.read(root):
        if each.id == run_id:
            record = each
    run = progress.read(root, run_id)
    offset = int(request.GET.get("offset", "0"))
    data = (root.run_log_dir(run_id) / request.GET.get("log", "")).read_bytes()
    return JsonResponse(
        {
            "run": json.loads(json.dumps(run.__dict__, default=lambda value: value.__dict__))
            if run
            else None,
            "record": record.id if record else None,
            "log": {"text": data[offset:].decode("utf-8", "replace"), "offset": len(data), "size": len(data)},
        }
    )


def write_history(path: Path, runs: int) -> None:
    """``runs`` records as the commands write them (json.dumps(asdict(record), sort_keys=True), one line
    each): a deploy writes "started" when it begins and its outcome under the same id when it ends."""
    from dataclasses import asdict

    from django_deploykit.deploy_root.history import HistoryRecord

    start = datetime(2024, 1, 1, tzinfo=UTC)
    lines = []
    for number in range(runs):
        when = start + timedelta(minutes=37 * number)
        run_id = when.strftime("%Y%m%dT%H%M%SZ-") + f"{number:06x}"
        user = USERS[number % len(USERS)]
        kind = ("deploy", "deploy", "deploy", "pull", "pull", "swap")[number % 6]
        result = "ok"
        if number % 17 == 0:
            result = "failed"
        elif number % 53 == 0:
            result = "swapped-back"
        elif number % 71 == 0:
            result = "refused"
        ref = ("main", "release/2.4", "v2.3.1", "hotfix-login")[number % 4]
        log_dir = f"/srv/site/logs/{run_id}"
        stages = [
            {
                "number": index,
                "name": name,
                "status": "failed" if result == "failed" and index == 5 else "ok",
                "duration": round(0.2 + (number * index) % 40 / 3, 3),
                "summary": f"{name}: done in step {index}",
                "log": f"{log_dir}/{index:02d}-{name}.log",
            }
            for index, name in enumerate(STAGES if kind == "deploy" else STAGES[:5], start=1)
        ]
        next_steps = (
            ["manage.py deploy_log " + run_id, "manage.py deploy --resume-from migrate"]
            if result == "failed"
            else []
        )
        slots = ("blue", "green") if number % 2 else ("green", "blue")
        details: dict[str, Any] = {"ref": ref, "log_dir": log_dir}
        if kind != "swap":
            details |= {
                "stages": stages,
                "next_steps": next_steps,
                "pull_id": run_id,
                "commits": [f"{(number * 7919 + k) % 16**12:012x} change {k}" for k in range(3)],
            }
        if kind == "deploy":
            details["swapped"] = result == "ok"
        record = HistoryRecord(
            kind=kind,
            result=result,
            started_at=when.isoformat(timespec="seconds"),
            duration=round(20 + number % 90 * 1.5, 3),
            id=run_id,
            user=user,
            from_slot=slots[0],
            to_slot=slots[1],
            from_revision=f"{number * 104729 % 16**40:040x}",
            to_revision=f"{(number + 1) * 104729 % 16**40:040x}",
            message="" if result == "ok" else f"The migrate stage {result}; see {log_dir}/05-migrate.log.",
            details=details,
        )
        if kind == "deploy":
            started = HistoryRecord(**{**asdict(record), "result": "started", "details": {"ref": ref}})
            lines.append(json.dumps(asdict(started), sort_keys=True))
        lines.append(json.dumps(asdict(record), sort_keys=True))
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


class Server:
    """Django's WSGI handler, called in-process with the signed-in user's session cookie."""

    def __init__(self, cookie: str) -> None:
        from django.core.handlers.wsgi import WSGIHandler
        from django.test import RequestFactory

        self.handler = WSGIHandler()
        self.cookie = cookie
        self.factory = RequestFactory()
        self.own_read = rchar_of_rchar()

    def get(self, url: str, query: str = "") -> tuple[int, bytes, float, int, list[str]]:
        """Status, body, seconds, bytes read (rchar) and files opened by one request."""
        environ = self.factory._base_environ(
            PATH_INFO=url, QUERY_STRING=query, REQUEST_METHOD="GET", HTTP_COOKIE=self.cookie
        )
        environ["wsgi.input"] = BytesIO()
        status: list[str] = []

        def start_response(line: str, headers: list[Any]) -> None:
            status.append(line)

        _opened.clear()
        before = rchar()
        _watching[0] = True
        started = time.perf_counter()
        response = self.handler(environ, start_response)
        body = b"".join(response)
        response.close()
        elapsed = time.perf_counter() - started
        _watching[0] = False
        read = rchar() - before - self.own_read
        return int(status[0].split()[0]), body, elapsed, read, list(_opened)


def signed_in_cookie() -> str:
    from django.contrib.auth.models import Permission, User
    from django.test import Client

    user = User.objects.create_user("alice")
    user.set_unusable_password()
    user.save()
    user.user_permissions.add(Permission.objects.get(codename="view_deploys"))
    client = Client()
    client.force_login(user)
    return "; ".join(f"{name}={morsel.value}" for name, morsel in client.cookies.items())


def ms(seconds: list[float]) -> tuple[float, float]:
    values = sorted(value * 1000 for value in seconds)
    return statistics.median(values), values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]


def bench_history(server: Server, root: Any, requests: int) -> None:
    from django.core.management import call_command

    from django_deploykit.deploy_root import history

    url = f"{CONSOLE}history/"
    # A worker's first page parses the whole file; every later one only what was appended since.
    status, body, cold, *_ = server.get(url)
    if status != 200:
        raise SystemExit(f"GET {url} answered {status}:\n{body.decode()[:2000]}")
    for _ in range(2):
        server.get(url)
    queries = {"the newest 50": "", "who=carol&result=failed, page 2": "who=carol&result=failed&page=2"}
    timed: dict[str, list[float]] = {name: [] for name in queries}
    peer: list[float] = []
    bare: list[float] = []
    for _ in range(requests):
        for name, query in queries.items():
            timed[name].append(server.get(url, query)[2])
        started = time.perf_counter()
        call_command("deploy_log", "--last", "50", stdout=StringIO())
        peer.append(time.perf_counter() - started)
        started = time.perf_counter()
        list(history.read(root))
        bare.append(time.perf_counter() - started)
    size = root.history_file.stat().st_size
    runs = sum(1 for _ in history.read(root))
    print(f"History page: {runs} recorded runs, history.jsonl {size / 1e6:.1f} MB; {requests} requests each")
    print(f"  {'server time (ms)':<52}{'median':>8}{'p95':>8}")
    for name, times in timed.items():
        median, p95 = ms(times)
        print(f"  {'console history page, ' + name:<52}{median:8.1f}{p95:8.1f}")
    appended = []
    for index in range(min(requests, 20)):
        history.append(
            root,
            history.HistoryRecord(
                kind="pull",
                result="ok",
                started_at="2026-12-01T10:00:00+00:00",
                duration=1.0,
                details={"ref": f"appended-{index}"},
            ),
        )
        appended.append(server.get(url)[2])
    appended_median, appended_p95 = ms(appended)
    print(
        f"  {'console history page, a run appended before each':<52}{appended_median:8.1f}{appended_p95:8.1f}"
    )
    first_page = "console history page, a new worker's first page"
    print(f"  {first_page:<52}{cold * 1000:8.1f}")
    peer_median, peer_p95 = ms(peer)
    print(f"  {'peer: deploy_log --last 50 (in-process)':<52}{peer_median:8.1f}{peer_p95:8.1f}")
    bare_median, bare_p95 = ms(bare)
    print(f"  {'  of which history.read() alone':<52}{bare_median:8.1f}{bare_p95:8.1f}")
    page_median, page_p95 = ms(timed["the newest 50"])
    print(f"  ratio deploy_log / page (medians): {peer_median / page_median:.1f}x")
    print(textwrap.fill(f"why this peer: {PEER_WHY}", 110, initial_indent="  ", subsequent_indent="    "))
    verdict = "met" if max(page_p95, appended_p95) < TARGET_PAGE_MS else "NOT met"
    print(
        f"Target: the history page in < {TARGET_PAGE_MS:.0f} ms of server time -> p95 {page_p95:.1f} ms "
        f"({appended_p95:.1f} ms with a run appended before each): {verdict}; a new worker's first page "
        f"parses the whole file once ({cold * 1000:.0f} ms)"
    )


def start_live_run(root: Any, log_mb: int) -> tuple[str, str, Any]:
    """A console-started deploy in its migrate stage: launch.json, run.json, and a ``log_mb`` MB log."""
    from django_deploykit.console.runs import LAUNCH_RECORD_NAME
    from django_deploykit.deploy_root import history
    from django_deploykit.deploy_root.layout import LAUNCH_LOG_NAME
    from django_deploykit.deploy_root.progress import ProgressFile, RunProgress

    run_id = history.new_run_id()
    directory = root.run_log_dir(run_id)
    directory.mkdir(parents=True)
    launch = {
        "run_id": run_id,
        "user": "alice",
        "action": "deploy",
        "argv": ["manage.py", "deploy", "--ref", "main", "--run-id", run_id],
        "pid": os.getpid(),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    (directory / LAUNCH_RECORD_NAME).write_text(json.dumps(launch), encoding="utf-8")
    (directory / LAUNCH_LOG_NAME).write_text("Deploying main.\n", encoding="utf-8")
    writer = ProgressFile(
        directory,
        RunProgress(
            id=run_id,
            kind="deploy",
            user="alice",
            started_at=launch["at"],
            pid=os.getpid(),
            planned=list(STAGES),
        ),
    )
    for number, name in enumerate(STAGES[:4], start=1):
        log = directory / f"{number:02d}-{name}.log"
        log.write_text(f"{name} done\n", encoding="utf-8")
        writer.stage_started(number, name, log)
        writer.stage_ended(number, "ok", 1.5, f"{name} done")
    log = directory / "05-migrate.log"
    writer.stage_started(5, "migrate", log)
    line = "  Applying notes.0042_backfill_summaries... batch of 500 rows, 0.03 s\n"
    block = line * (1024 * 1024 // len(line))
    with open(log, "w", encoding="utf-8") as handle:
        for _ in range(log_mb):
            handle.write(block)
    return run_id, log.name, writer


def follow(
    server: Server, url: str, log: Path, writer: Any, polls: int, offset: int, version: str
) -> list[dict[str, Any]]:
    """``polls`` polls as the run page makes them, each after ~2 KB more of the log; every tenth poll
    after a rewrite of the progress file (as each stage's start and end makes)."""
    from django_deploykit.deploy_root.layout import PROGRESS_NAME

    samples = []
    line = "  Applying notes.0042_backfill_summaries... batch of 500 rows, 0.03 s\n"
    progress_path = log.parent / PROGRESS_NAME
    for number in range(polls):
        rewrote = number % 10 == 9
        if rewrote:
            writer.stage_ended(5, "running", 60.0 + number, "")
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(line * (20 + number % 20))
        appended_to = log.stat().st_size
        status, body, elapsed, read, opened = server.get(
            url, f"version={version}&log={log.name}&offset={offset}"
        )
        if status != 200:
            raise SystemExit(f"GET {url} answered {status}:\n{body.decode()[:2000]}")
        document = json.loads(body)
        new_offset = document["log"]["offset"]
        samples.append(
            {
                "seconds": elapsed,
                "read": read,
                "log_bytes": min(appended_to, new_offset) - offset,
                "progress_changed": document.get("version", version) != version,
                "progress_size": progress_path.stat().st_size,
                "opened": opened,
                "rewrote": rewrote,
            }
        )
        offset, version = new_offset, document.get("version", version)
    return samples


def bench_poll(server: Server, root: Any, polls: int, log_mb: int) -> None:
    from django_deploykit.deploy_root import progress

    run_id, log_name, writer = start_live_run(root, log_mb)
    log = root.run_log_dir(run_id) / log_name
    ours_url = f"{CONSOLE}runs/{run_id}/poll/"
    naive_url = f"/naive/runs/{run_id}/poll/"
    # The page has just been opened: it knows the run's version and is at the log's end.
    first = json.loads(server.get(ours_url, f"log={log_name}&offset={log.stat().st_size}")[1])
    version, offset = first["version"], first["log"]["offset"]
    server.get(naive_url, f"log={log_name}&offset={offset}")
    ours = follow(server, ours_url, log, writer, polls, offset, version)
    naive = follow(server, naive_url, log, writer, max(10, polls // 5), log.stat().st_size, version)
    history_size = root.history_file.stat().st_size

    print()
    print(
        f"Live log poll: a running deploy, stage log {log.stat().st_size / 1e6:.1f} MB growing ~2 KB between "
        f"polls, history.jsonl {history_size / 1e6:.1f} MB; progress file rewritten every 10th poll"
    )
    print(f"  {len(ours)} polls of ours, {len(naive)} of the naive peer")
    print(f"  {'per poll':<46}{'median':>12}{'max':>12}{'ms median':>11}{'ms p95':>8}")
    for name, samples in (
        ("ours: /console/runs/<id>/poll/", ours),
        ("naive: whole history + whole log", naive),
    ):
        reads = [sample["read"] for sample in samples]
        median_ms, p95_ms = ms([sample["seconds"] for sample in samples])
        print(
            f"  {name + ', bytes read':<46}{statistics.median(reads):>12,.0f}{max(reads):>12,}"
            f"{median_ms:>11.2f}{p95_ms:>8.2f}"
        )
    ours_median = statistics.median(sample["read"] for sample in ours)
    naive_median = statistics.median(sample["read"] for sample in naive)
    print(f"  ratio naive / ours (median bytes read per poll): {naive_median / ours_median:,.0f}x")

    # What the target allows each poll: the log's new bytes, plus the progress file when it changed.
    extra = []
    for sample in ours:
        allowed = sample["log_bytes"] + (sample["progress_size"] if sample["progress_changed"] else 0)
        extra.append(sample["read"] - allowed)
    unchanged = [sample for sample in ours if not sample["progress_changed"]]
    changed = [sample for sample in ours if sample["progress_changed"]]
    for title, group in (("progress unchanged", unchanged), ("progress changed", changed)):
        if not group:
            continue
        files = Counter(
            os.path.basename(path) for sample in group for path in sample["opened"] if "/proc/" not in path
        )
        listing = ", ".join(f"{name} x{count}" for name, count in sorted(files.items()))
        log_bytes = statistics.median(sample["log_bytes"] for sample in group)
        read = statistics.median(sample["read"] for sample in group)
        print(
            f"  ours, {title} ({len(group)} polls): median {read:,.0f} bytes read, of which new log bytes "
            f"{log_bytes:,.0f}; files opened: {listing or 'none'}"
        )
    over = [value for value in extra if value > 0]
    print(
        f"  ours beyond the new log bytes (+ run.json when changed): median {statistics.median(extra):,.0f} "
        f"bytes, max {max(extra):,} bytes, in {len(over)} of {len(extra)} polls"
    )
    catch_up = []
    offset = 4 * progress.LOG_CHUNK
    # One poll first, not counted, for the progress file rewritten by the naive peer's polls above.
    version = json.loads(server.get(ours_url, f"log={log_name}&offset={offset}")[1])["version"]
    for _ in range(min(polls, 50)):
        _status, body, _seconds, read, opened = server.get(
            ours_url, f"version={version}&log={log_name}&offset={offset}"
        )
        new_offset = json.loads(body)["log"]["offset"]
        catch_up.append((read, read - (new_offset - offset), opened))
        offset = new_offset
    most = max(catch_up, key=lambda sample: sample[0])
    print(
        f"  catching up from the page's first {4 * progress.LOG_CHUNK // 1024} KB ({len(catch_up)} polls): at most "
        f"{most[0]:,} bytes read per poll (LOG_CHUNK is {progress.LOG_CHUNK:,}), "
        f"beyond the log's bytes at most {max(sample[1] for sample in catch_up):,}; files opened: "
        + ", ".join(os.path.basename(path) for path in most[2])
    )
    # /proc/self/io is a text file whose length changes with its numbers' digits: a reading's own cost varies
    # by a few bytes. The files each poll opened say exactly what it read.
    tolerance = 16
    strays = [
        sample
        for sample in ours
        if {os.path.basename(path) for path in sample["opened"] if "/proc/" not in path}
        - {log_name, *(["run.json"] if sample["progress_changed"] else [])}
    ]
    verdict = "met" if not strays and max(extra) <= tolerance else "NOT met"
    print(
        "Target: one small read per poll (the new log bytes, plus run.json only when it changed) -> "
        f"{len(strays)} of {len(extra)} polls opened another file, at most {max(extra)} bytes beyond "
        f"(reading /proc/self/io varies by up to {tolerance}): {verdict}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--runs", type=int, default=10000, help="Recorded runs in the history (default 10000)."
    )
    parser.add_argument("--requests", type=int, default=50, help="Timed requests of each page (default 50).")
    parser.add_argument("--polls", type=int, default=100, help="Polls of the live run (default 100).")
    parser.add_argument("--log-mb", type=int, default=20, help="The running stage's log, in MB (default 20).")
    args = parser.parse_args()
    sys.addaudithook(_audit)
    with tempfile.TemporaryDirectory(prefix="deploykit-bench-") as base:
        base_path = Path(base)
        # tests.deployment makes the deploy root as the console tests do; it needs settings to import.
        configure(base_path / "site", base_path)
        from django.core.management import call_command

        from tests.deployment import build_site

        site = build_site(base_path, venvs=False)
        call_command("migrate", run_syncdb=True, verbosity=0)
        write_history(site.root.history_file, args.runs)
        server = Server(signed_in_cookie())
        print(f"django {django.get_version()}, python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
        print()
        bench_history(server, site.root, args.requests)
        bench_poll(server, site.root, args.polls, args.log_mb)


if __name__ == "__main__":
    main()
