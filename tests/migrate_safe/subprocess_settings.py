"""Settings for migrate_safe processes that tests start: the database and the migration graph
come from MIGRATE_SAFE_TEST_DB (a URL) and MIGRATE_SAFE_TEST_GRAPH."""

from __future__ import annotations

import os

import environ

from tests.migrate_safe.graph_settings import graph_settings
from tests.settings import *  # noqa: F403

DATABASES = {"default": environ.Env.db_url_config(os.environ["MIGRATE_SAFE_TEST_DB"])}
_graph = graph_settings(os.environ["MIGRATE_SAFE_TEST_GRAPH"])
INSTALLED_APPS = _graph["INSTALLED_APPS"]
MIGRATION_MODULES = _graph["MIGRATION_MODULES"]
