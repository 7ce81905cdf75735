"""The command in one process, a real gunicorn with two workers in others.

The workers must change their answer within the staleness bound (one second) after the
command returns, without a restart and without a database.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sh

from tests.maintenance.tiny_project import PYTHON, tiny_env, write_tiny_project
from tests.servers import GunicornServer, fetch

STALENESS = 1.0
# Time for the command's process to exit and for a request to travel; not a performance bound.
SLACK = 0.3
REQUESTS = 12


def statuses(url: str) -> list[int]:
    return [fetch(url)[0] for _ in range(REQUESTS)]


def after_bound(returned_at: float) -> None:
    time.sleep(max(0.0, returned_at + STALENESS + SLACK - time.monotonic()))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_tiny_project(tmp_path / "site")


def manage(project: Path, env: dict[str, str], *args: str) -> float:
    sh.Command(PYTHON)("manage.py", "maintenance", *args, _cwd=str(project), _env=env)
    return time.monotonic()


class HostScopeTests:
    @pytest.fixture
    def server(self, project: Path, tmp_path: Path) -> Iterator[tuple[GunicornServer, dict[str, str]]]:
        env = tiny_env(tmp_path / "maintenance.json")
        with GunicornServer("tinyproject.wsgi:application", cwd=project, env=env, workers=2) as server:
            yield server, env

    def test_workers_follow_on_and_off_within_the_bound(
        self, server: tuple[GunicornServer, dict[str, str]], project: Path
    ) -> None:
        gunicorn, env = server
        assert statuses(gunicorn.url + "/") == [200] * REQUESTS

        # 'on' itself waits out the staleness bound: once it returns, every worker answers 503.
        manage(project, env, "on", "--for", "10m", "--message", "Back in ten.")
        status, headers, body = fetch(gunicorn.url + "/")
        assert status == 503, gunicorn.log()
        assert b"Back in ten." in body
        assert 590 <= int(headers["Retry-After"]) <= 600
        assert statuses(gunicorn.url + "/") == [503] * REQUESTS
        assert fetch(gunicorn.url + "/healthz")[0] == 200

        returned_at = manage(project, env, "off")
        after_bound(returned_at)
        assert statuses(gunicorn.url + "/") == [200] * REQUESTS

    def test_announced_window_shows_the_banner_in_every_worker(
        self, server: tuple[GunicornServer, dict[str, str]], project: Path
    ) -> None:
        gunicorn, env = server
        start = (datetime.now(UTC) + timedelta(days=3)).replace(second=0, microsecond=0)
        returned_at = manage(
            project, env, "on", "--at", start.isoformat(), "--warn", "4d", "--message", "Hi."
        )
        after_bound(returned_at)
        expected = f"Maintenance starts at {start:%H:%M} on {start.date().isoformat()} (in "
        for _ in range(REQUESTS):
            status, _, body = fetch(gunicorn.url + "/")
            assert status == 200
            assert expected in body.decode()
            assert b"): Hi.</div>" in body


class SharedScopeTests:
    def test_two_slots_agree_through_redis(self, project: Path, tmp_path: Path, redis_url: str) -> None:
        import redis

        key = f"deploykit-test:maintenance:{uuid.uuid4().hex}"
        blue = tiny_env(
            tmp_path / "blue.json", TINY_REDIS_URL=redis_url, TINY_CACHE_KEY=key, TINY_SLOT="blue"
        )
        green = {**blue, "TINY_SLOT": "green", "TINY_STATE_FILE": str(tmp_path / "green.json")}
        try:
            with (
                GunicornServer("tinyproject.wsgi:application", cwd=project, env=blue) as blue_server,
                GunicornServer("tinyproject.wsgi:application", cwd=project, env=green) as green_server,
            ):
                manage(project, blue, "on", "--scope", "shared", "--for", "5m")
                assert statuses(blue_server.url + "/") == [503] * REQUESTS
                assert statuses(green_server.url + "/") == [503] * REQUESTS
                returned_at = manage(project, green, "off", "--scope", "shared")
                after_bound(returned_at)
                assert statuses(blue_server.url + "/") == [200] * REQUESTS
        finally:
            redis.Redis.from_url(redis_url).delete(key)
