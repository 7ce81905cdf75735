"""Database and cache URLs to Django settings, without django-environ's known pitfalls.

* ``?conn_health_checks=false`` must be ``False``, not the truthy string ``'false'``.
* With Django's own RedisCache, django-environ lower-cases ``key_prefix`` and ``version``
  into keys Django ignores, so both slots silently share one namespace. Here they always
  reach ``KEY_PREFIX`` and ``VERSION``, whichever Redis backend is used.
* An unknown scheme is an error, not a warning followed by a broken ``ENGINE``.
* Error messages never contain the URL's password, nor a piece of it: django-environ parses with
  ``urlsplit``, which cuts a password holding ``/``, ``?``, ``#`` or ``@`` and quotes a piece of it as
  the port; ``redact.redact_error`` finds the password without parsing the URL.
"""

from __future__ import annotations

import re
from typing import Any, Final

import environ
from django.core.exceptions import ImproperlyConfigured

from django_deploykit.redact import redact_error, redact_url, url_password

DJANGO_REDIS_CACHE: Final = "django.core.cache.backends.redis.RedisCache"

# Keys at the top of a DATABASES entry that Django reads as booleans.
DATABASE_BOOLEAN_KEYS: Final = frozenset(
    {"ATOMIC_REQUESTS", "AUTOCOMMIT", "CONN_HEALTH_CHECKS", "DISABLE_SERVER_SIDE_CURSORS"}
)
# Keys at the top of a CACHES entry; django-environ puts any other query key in OPTIONS.
CACHE_BASE_KEYS: Final = frozenset({"TIMEOUT", "KEY_PREFIX", "VERSION", "KEY_FUNCTION"})
_BOOLEAN_WORDS: Final = {"true": True, "false": False}
# Characters of a password that urlsplit takes for the end of the host part (django-environ copes with '#'
# and '@' itself).
_CUT_BY_URL_PARSING: Final = "/?[]"
_SCHEME: Final = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*(?=:)")


def parse_database_url(url: str, *, engine: str | None = None) -> dict[str, Any]:
    """Return the ``DATABASES`` entry for ``url``."""
    scheme = _scheme(url)
    if scheme not in environ.Env.DB_SCHEMES:
        known = ", ".join(sorted(f"{s}://" for s in ("postgres", "mysql", "sqlite")))
        raise ValueError(f"{redact_url(url)!r} does not start with a known database scheme such as {known}")
    try:
        config: dict[str, Any] = environ.Env.db_url_config(url, engine=engine)
    except (ValueError, KeyError, ImproperlyConfigured) as exc:
        raise ValueError(_safe_reason(exc, url)) from None
    for key in DATABASE_BOOLEAN_KEYS & config.keys():
        config[key] = _as_boolean(config[key], key)
    if isinstance(config.get("OPTIONS"), dict):
        config["OPTIONS"] = {key: _booleans_as_bool(value) for key, value in config["OPTIONS"].items()}
    return config


def parse_cache_url(url: str, *, backend: str | None = None) -> dict[str, Any]:
    """Return the ``CACHES`` entry for ``url``, with KEY_PREFIX and VERSION where Django reads them."""
    scheme = _scheme(url)
    if scheme not in environ.Env.CACHE_SCHEMES:
        raise ValueError(f"{redact_url(url)!r} does not start with a known cache scheme")
    try:
        raw: dict[str, Any] = environ.Env.cache_url_config(url, backend=backend)
    except (ValueError, KeyError, ImproperlyConfigured) as exc:
        raise ValueError(_safe_reason(exc, url)) from None
    config: dict[str, Any] = {}
    for key, value in raw.items():
        if key.upper() in CACHE_BASE_KEYS:
            config[key.upper()] = value
        else:
            config[key] = value
    if "VERSION" in config:
        config["VERSION"] = _as_int(config["VERSION"], "version")
    if "TIMEOUT" in config and config["TIMEOUT"] is not None:
        config["TIMEOUT"] = _as_int(config["TIMEOUT"], "timeout")
    if "KEY_PREFIX" in config:
        config["KEY_PREFIX"] = str(config["KEY_PREFIX"])
    options = config.get("OPTIONS")
    if isinstance(options, dict):
        config["OPTIONS"] = {key: _booleans_as_bool(value) for key, value in options.items()}
        if config["BACKEND"] == DJANGO_REDIS_CACHE:
            # Django's RedisCache passes OPTIONS to redis-py, whose keywords are lower case.
            config["OPTIONS"] = {key.lower(): value for key, value in config["OPTIONS"].items()}
    return config


def _scheme(url: str) -> str:
    scheme = _SCHEME.match(url)
    if scheme is None or ("://" not in url and not url.startswith("sqlite:")):
        raise ValueError("it is not a URL (expected scheme://…)")
    return scheme[0].lower()


def _safe_reason(exc: Exception, url: str) -> str:
    reason = redact_error(str(exc), url) + f" (in {redact_url(url)!r})"
    if set(url_password(url)) & set(_CUT_BY_URL_PARSING):
        # The likely cause, said without showing which of the characters the password holds.
        reason += (
            "; if the password holds '/', '?', '[' or ']', write them percent-encoded "
            "(%2F, %3F, %5B, %5D) so that the URL is not cut inside the password"
        )
    return reason


def _as_boolean(value: Any, key: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _BOOLEAN_WORDS:
        return _BOOLEAN_WORDS[value.strip().lower()]
    raise ValueError(f"{key.lower()}={value!r} is not a boolean; use true or false")


def _booleans_as_bool(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in _BOOLEAN_WORDS:
        return _BOOLEAN_WORDS[value.strip().lower()]
    return value


def _as_int(value: Any, key: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{key}={value!r} is not a whole number") from None
