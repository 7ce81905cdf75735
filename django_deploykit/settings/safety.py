"""The settings a production process must never start with."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any, Final

# Django's own rule for a strong key (django.core.checks.security.base, W009).
SECRET_KEY_MIN_LENGTH: Final = 50
SECRET_KEY_MIN_UNIQUE_CHARACTERS: Final = 5
SECRET_KEY_INSECURE_PREFIX: Final = "django-insecure-"
# Keys copied from tutorials and templates; compared case-insensitively.
KNOWN_DEFAULT_SECRET_KEYS: Final = frozenset(
    {"changeme", "change-me", "change_me", "secret", "secret-key", "secret_key", "your-secret-key",
     "your_secret_key", "development", "dev", "django", "insecure", "notsecret", "not-secret", "test", "xxx"}
)


def production_problems(
    values: Mapping[str, Any],
    describe_source: Callable[[str], str],
    known_default_keys: Collection[str] = (),
) -> list[str]:
    """Return one sentence per unsafe production setting in ``values`` (empty when safe).

    ``describe_source(name)`` says where the setting came from, so the message can name the
    variable to fix.
    """
    problems = []
    if values.get("DEBUG"):
        problems.append(f"DEBUG is on; it comes from {describe_source('DEBUG')}. Turn it off in production.")
    problem = secret_key_problem(values.get("SECRET_KEY"), known_default_keys)
    if problem:
        problems.append(f"SECRET_KEY {problem}; it comes from {describe_source('SECRET_KEY')}.")
    if not values.get("ALLOWED_HOSTS"):
        problems.append(
            f"ALLOWED_HOSTS is empty; it comes from {describe_source('ALLOWED_HOSTS')}. "
            "List the host names this site answers to."
        )
    return problems


def secret_key_problem(key: object, known_default_keys: Collection[str] = ()) -> str | None:
    """Say what is wrong with ``key`` as a production SECRET_KEY, or return ``None``."""
    if not isinstance(key, str) or not key:
        return "is missing"
    if key.startswith(SECRET_KEY_INSECURE_PREFIX):
        return f"is a development key (it starts with {SECRET_KEY_INSECURE_PREFIX!r})"
    if key in known_default_keys or key.lower() in KNOWN_DEFAULT_SECRET_KEYS:
        return "is a known default value, not a secret"
    if len(key) < SECRET_KEY_MIN_LENGTH or len(set(key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS:
        return (
            f"is too weak ({len(key)} characters, {len(set(key))} distinct; at least "
            f"{SECRET_KEY_MIN_LENGTH} characters with {SECRET_KEY_MIN_UNIQUE_CHARACTERS} distinct are needed)"
        )
    return None
