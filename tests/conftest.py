from __future__ import annotations

import contextlib
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.browser import browser  # noqa: F401 (a fixture of the browser tests)
from tests.services import SERVICES, Service

REPO_ROOT = Path(__file__).resolve().parent.parent


def _require(service: Service) -> str:
    if service.probe():
        service.tests_run += 1
        return service.url
    if os.environ.get("CI"):
        pytest.fail(f"{service.name} is required when CI is set: {service.error}", pytrace=False)
    pytest.skip(f"{service.name}: {service.error}")


@pytest.fixture
def postgres_url() -> str:
    return _require(SERVICES["postgresql"])


@pytest.fixture
def mysql_url() -> str:
    return _require(SERVICES["mariadb"])


@pytest.fixture
def redis_url() -> str:
    return _require(SERVICES["redis"])


@pytest.fixture
def memcached_url() -> str:
    return _require(SERVICES["memcached"])


@pytest.fixture
def example_project(tmp_path: Path) -> Iterator[Path]:
    """A private copy of example_project, so tests may write .env files and databases in it."""
    target = tmp_path / "example_project"
    shutil.copytree(
        REPO_ROOT / "example_project",
        target,
        ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3", ".env", "static", "media"),
    )
    return target


def pytest_report_header() -> str:
    return f"deploykit: python {sys.version.split()[0]}, CI={'yes' if os.environ.get('CI') else 'no'}"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    parts = ["sqlite: ran"]
    for service in SERVICES.values():
        if service.tests_run:
            parts.append(f"{service.name}: ran ({service.tests_run} tests)")
        elif service.reachable is False:
            parts.append(f"{service.name}: NOT RUN ({service.error})")
        else:
            parts.append(f"{service.name}: not needed by the selected tests")
    terminalreporter.write_line("backends: " + "; ".join(parts))


def _writable(folder: Path) -> bool:
    probe = folder / ".write-probe"
    try:
        probe.write_text("")
    except OSError:
        return False
    probe.unlink()
    return True


@pytest.fixture
def read_only_folder() -> Callable[[Path], contextlib.AbstractContextManager[None]]:
    """Make a folder unwritable for this process, even as root (then with the immutable attribute)."""
    import sh

    @contextlib.contextmanager
    def make(folder: Path) -> Iterator[None]:
        mode = folder.stat().st_mode
        folder.chmod(0o555)
        immutable = False
        try:
            if _writable(folder):
                try:
                    sh.chattr("+i", str(folder))
                    immutable = True
                except sh.ErrorReturnCode as exc:
                    message = f"cannot make {folder} read-only for root: {exc.stderr.decode().strip()}"
                    if os.environ.get("CI"):
                        pytest.fail(message)
                    pytest.skip(message)
            assert not _writable(folder)
            yield
        finally:
            if immutable:
                sh.chattr("-i", str(folder))
            folder.chmod(mode)

    return make
