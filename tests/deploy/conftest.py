from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deployment import Site, build_site


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    """blue live and migrated at v1, green the stage slot at v1."""
    site = build_site(tmp_path)
    site.manage("live", "migrate", "-v0")
    try:
        yield site
    finally:
        site.stop_servers()
