from __future__ import annotations


def reversed_key(key: str, key_prefix: str, version: int) -> str:
    """A KEY_FUNCTION whose layout is not Django's, for the refusal tests."""
    return f"{key}:{version}:{key_prefix}"
