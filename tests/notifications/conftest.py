"""The webhook receiver the notification tests post to."""

from __future__ import annotations

from tests.notifications.hooks import hooks

__all__ = ["hooks"]
