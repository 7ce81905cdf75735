from __future__ import annotations

import socket
import uuid


def unique_base() -> str:
    """A KEY_PREFIX base no other test (or other test run sharing the server) uses."""
    return f"t{uuid.uuid4().hex[:10]}"


def closed_port() -> int:
    """A local TCP port nothing listens on (it was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
