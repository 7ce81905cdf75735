"""The webhook receiver the notification tests post to, and the deploy tests' real site."""

from __future__ import annotations

from tests.deployment import migrated_site
from tests.notifications.hooks import hooks

__all__ = ["hooks", "migrated_site"]
