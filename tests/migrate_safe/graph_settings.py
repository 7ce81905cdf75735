"""Which migrations the test apps get: one folder of tests/migrate_safe/graphs per scenario."""

from __future__ import annotations

from pathlib import Path
from typing import Any

GRAPHS = Path(__file__).parent / "graphs"
TEST_APPS = ("ms_shop", "ms_stock", "ms_billing")
BASE_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "django_deploykit"]


def graph_settings(name: str) -> dict[str, Any]:
    """Settings that install the test apps with the migrations of graph ``name``."""
    modules: dict[str, str | None] = {}
    for app in TEST_APPS:
        modules[app] = f"tests.migrate_safe.graphs.{name}.{app}" if (GRAPHS / name / app).is_dir() else None
    return {
        "INSTALLED_APPS": [*BASE_APPS, *(f"tests.migrate_safe.apps.{app}" for app in TEST_APPS)],
        "MIGRATION_MODULES": modules,
    }
