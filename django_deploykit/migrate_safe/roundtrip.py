"""--roundtrip: forwards, backwards, forwards on a throwaway test database (not done yet)."""

from __future__ import annotations

from collections.abc import Callable


class RoundtripError(RuntimeError):
    pass


def run_roundtrip(database: str, app_label: str | None, say: Callable[[str], None]) -> list[str]:
    raise RoundtripError("--roundtrip is not implemented yet in this version of django-deploykit.")
