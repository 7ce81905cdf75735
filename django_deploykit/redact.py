"""Remove secrets from text before it is printed or logged."""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit, urlunsplit

MASK = "***"

# Query parameters whose values are secrets in the URLs our users configure.
SECRET_QUERY_KEYS = frozenset({"password", "passwd", "pwd", "secret", "token", "access_token", "api_key", "key"})

_TOKEN_MIN_LENGTH = 20

_URL_RE = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")
_QUERY_SECRET_RE = re.compile(
    r"(?P<key>(?:^|[?&;])(?:" + "|".join(sorted(SECRET_QUERY_KEYS)) + r"))=(?P<value>[^&;#]*)",
    re.IGNORECASE,
)


def redact_url(url: str) -> str:
    """Return ``url`` with the password of its user-info and secret query values masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostinfo = netloc.rpartition("@")
        user, has_password, _ = userinfo.partition(":")
        if has_password:
            netloc = f"{user}:{MASK}@{hostinfo}"
        elif parts.scheme.startswith(("redis", "valkey")) or len(user) >= _TOKEN_MIN_LENGTH:
            # redis://secret@host uses the user part as the password, and git hosts take
            # https://TOKEN@host; a short plain user name (git@, deployer@) is left readable.
            netloc = f"{MASK}@{hostinfo}"
    query = _QUERY_SECRET_RE.sub(lambda m: f"{m['key']}={MASK}", parts.query)
    return urlunsplit(SplitResult(parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_text(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Mask every URL password in ``text`` and every literal secret in ``secrets``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return _URL_RE.sub(lambda m: redact_url(m.group(0)), text)
