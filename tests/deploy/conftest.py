"""The fixtures these tests share with the deploy_pull tests, from tests/deployment.py."""

from __future__ import annotations

from tests.deployment import migrated_site

__all__ = ["migrated_site"]
