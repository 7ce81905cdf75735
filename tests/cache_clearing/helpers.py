from __future__ import annotations

import socket
import uuid
from io import StringIO

from django.core.management import call_command
from django.core.management.base import CommandError


def run_command(*args: str, **options: object) -> tuple[str, str, int]:
    """Run clear_cache; return (stdout, stderr with any CommandError message, exit code)."""
    out, err = StringIO(), StringIO()
    try:
        call_command("clear_cache", *args, stdout=out, stderr=err, **options)
    except CommandError as exc:
        return out.getvalue(), err.getvalue() + str(exc), exc.returncode
    return out.getvalue(), err.getvalue(), 0


def unique_base() -> str:
    """A KEY_PREFIX base no other test (or other test run sharing the server) uses."""
    return f"t{uuid.uuid4().hex[:10]}"


def closed_port() -> int:
    """A local TCP port nothing listens on (it was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
