"""Remove secrets from text before it is printed or logged.

Nothing here parses a URL with ``urllib``: a password is the part operators least often percent-encode, and
one holding ``/``, ``?``, ``#`` or ``@`` (base64 passwords hold ``/``) makes ``urlsplit`` cut the URL in the
wrong place and hand back a fragment of the password as the host or port. Instead, the user-info of a URL is
everything between ``scheme://`` and the *last* ``@`` after it, and everything after the first ``:`` in it
is the password. Where that guess is wrong it masks too much, never too little.
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import unquote

MASK: Final = "***"

# Query parameters whose values are secrets in the URLs our users configure.
SECRET_QUERY_KEYS: Final = frozenset(
    {"password", "passwd", "pwd", "secret", "token", "access_token", "api_key", "key"}
)

_TOKEN_MIN_LENGTH: Final = 20
# Schemes whose user-info without ':' is a password: redis://secret@host.
_PASSWORD_ONLY_SCHEMES: Final = ("redis", "rediss", "valkey", "valkeys")

_SCHEME_RE: Final = re.compile(r"\b(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*)://")
_URL_RE: Final = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")
_QUERY_SECRET_RE: Final = re.compile(
    r"(?P<key>(?:^|[?&;])(?:" + "|".join(sorted(SECRET_QUERY_KEYS)) + r"))=(?P<value>[^&;#]*)",
    re.IGNORECASE,
)
# What a user name never holds; a "user" holding one is a host, path or prose, not user-info.
_NOT_IN_A_USER: Final = re.compile(r"[/?#\s]")
_QUOTED_RE: Final = re.compile(r"'([^']*)'|\"([^\"]*)\"")


def redact_url(url: str) -> str:
    """Return ``url`` with the password of its user-info and secret query values masked."""
    return _redact_urls(url)


def redact_text(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Mask every URL password in ``text`` and every literal secret in ``secrets``."""
    # Longest first, so that a secret holding a shorter one is not left half masked.
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, MASK)
    return "".join(_redact_urls(line) for line in text.splitlines(keepends=True))


def url_password(url: str) -> str:
    """The password of ``url``'s user-info as written (``""`` when it has none), found without parsing."""
    scheme = _SCHEME_RE.match(url.strip())
    if scheme is None:
        return ""
    rest = url.strip()[scheme.end() :]
    userinfo, at, _ = rest.rpartition("@")
    if not at:
        return ""
    _user, colon, password = userinfo.partition(":")
    if colon:
        return password
    return userinfo if scheme["scheme"].lower().startswith(_PASSWORD_ONLY_SCHEMES) else ""


def redact_error(text: str, url: str) -> str:
    """The text of an error raised while reading ``url``, with no part of its password left in it.

    A parser that cut the URL in the wrong place quotes a piece of the password as if it were the port or
    the host ("Port could not be cast to integer value as 'Zx9'"), so quoted pieces of the password are
    masked too, besides the whole password, percent-decoded or not.
    """
    password = url_password(url)
    if not password:
        return redact_text(text)
    text = redact_text(text, (password, unquote(password)))

    def mask_piece(match: re.Match[str]) -> str:
        piece = match[1] if match[1] is not None else match[2]
        if piece and piece in password:
            quote = match[0][0]
            return quote + MASK + quote
        return match[0]

    return _QUOTED_RE.sub(mask_piece, text)


def _redact_urls(line: str) -> str:
    """Mask the user-info passwords and secret query values of the URLs in one line of text."""
    return _mask_query_secrets(_mask_userinfos(line))


def _mask_userinfos(line: str) -> str:
    scheme = _SCHEME_RE.search(line)
    if scheme is None:
        return line
    head, rest = line[: scheme.end()], line[scheme.end() :]
    # The last '@' on the line: a password may hold '@', '/', '?', '#' and even spaces.
    userinfo, at, after = rest.rpartition("@")
    if at:
        masked = _mask_userinfo(scheme["scheme"].lower(), userinfo)
        if masked is not None:
            return head + masked + "@" + after
    # Not user-info of this URL (a path or prose before an '@'): a later URL on the line may have some.
    return head + _mask_userinfos(rest)


def _mask_userinfo(scheme: str, userinfo: str) -> str | None:
    """The masked user-info, or ``None`` when ``userinfo`` is not one (a host, a path, prose)."""
    user, colon, _ = userinfo.partition(":")
    not_a_user = _NOT_IN_A_USER.search(user) is not None
    if scheme.startswith(_PASSWORD_ONLY_SCHEMES):
        # redis://secret@host: the user part is the password too.
        if not userinfo:
            return userinfo
        return f"{user}:{MASK}" if colon and not not_a_user else MASK
    if not_a_user:
        return None
    if colon:
        return f"{user}:{MASK}"
    if len(userinfo) >= _TOKEN_MIN_LENGTH:
        # Git hosts take https://TOKEN@host; a short plain user name (git@, deployer@) is left readable.
        return MASK
    return userinfo


def _mask_query_secrets(text: str) -> str:
    def mask(match: re.Match[str]) -> str:
        url = match[0]
        start = url.find("?")
        if start == -1:
            return url
        return url[:start] + _QUERY_SECRET_RE.sub(lambda m: f"{m['key']}={MASK}", url[start:])

    return _URL_RE.sub(mask, text)
