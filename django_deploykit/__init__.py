"""Safe, logged, repeatable Django deploys."""

from __future__ import annotations

__version__ = "0.2.0"
