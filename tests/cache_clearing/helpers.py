from __future__ import annotations

import uuid


def unique_base() -> str:
    """A KEY_PREFIX base no other test (or other test run sharing the server) uses."""
    return f"t{uuid.uuid4().hex[:10]}"
