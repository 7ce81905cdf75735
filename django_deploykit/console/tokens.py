"""CI tokens: a user with the push right makes one in the console and gives it to CI, which starts deploys
with it (``Authorization: Bearer …``) and polls their status.

The token is shown once; ``shared/console/tokens.json`` keeps its SHA-256 and a public id. A token is 32
random bytes, so a fast hash is enough: there is nothing to guess from. It acts as its user, with that user's
rights at the time of each request: a user who loses the push right, is deactivated or deleted cannot deploy
with an old token. The file is a file, not a table, so CI can deploy while a migration runs.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Final

from django_deploykit.atomic_files import write_atomically
from django_deploykit.deploy_root.layout import DeployRoot

PREFIX: Final = "dkt"
# Only the owner reads it: the hashes are not secrets, but which user holds tokens is nobody else's business.
FILE_MODE = 0o600
NAME_LIMIT: Final = 80
# Beside the file: held while the file is read, changed and written again.
LOCK_NAME: Final = "tokens.lock"


class TokenError(Exception):
    """A token request that cannot be done; the message says why."""


@dataclass
class StoredToken:
    id: str
    user: str
    name: str
    sha256: str
    created_at: str
    last_used_at: str | None = None


def _read(root: DeployRoot) -> list[StoredToken]:
    try:
        data = json.loads(root.tokens_file.read_text(encoding="utf-8"))
        return [StoredToken(**item) for item in data]
    except FileNotFoundError:
        return []
    except (OSError, ValueError, TypeError) as exc:
        raise TokenError(f"The console's token file {root.tokens_file} cannot be read: {exc}.") from exc


def _write(root: DeployRoot, tokens: list[StoredToken]) -> None:
    root.console_dir.mkdir(parents=True, exist_ok=True)
    write_atomically(root.tokens_file, json.dumps([asdict(t) for t in tokens], indent=1), mode=FILE_MODE)


@contextmanager
def _changing(root: DeployRoot) -> Iterator[None]:
    """One read-modify-write of the file at a time, across the workers (a token made in one worker while
    another records a use must not be lost)."""
    root.console_dir.mkdir(parents=True, exist_ok=True)
    with open(root.console_dir / LOCK_NAME, "a", encoding="utf-8") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def of_user(root: DeployRoot, username: str) -> list[StoredToken]:
    return [token for token in _read(root) if token.user == username]


def create(root: DeployRoot, username: str, name: str) -> tuple[StoredToken, str]:
    """A new token for ``username``: what is stored, and the token itself (shown once, never stored)."""
    name = name.strip()
    if not name or len(name) > NAME_LIMIT or not name.isprintable():
        raise TokenError(
            f"Give the token a name of 1 to {NAME_LIMIT} printable characters, such as 'ci-main'."
        )
    public = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    stored = StoredToken(
        id=public,
        user=username,
        name=name,
        sha256=_digest(secret),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    with _changing(root):
        _write(root, [*_read(root), stored])
    return stored, f"{PREFIX}_{public}_{secret}"


def revoke(root: DeployRoot, username: str, token_id: str) -> StoredToken:
    with _changing(root):
        tokens = _read(root)
        mine = [token for token in tokens if token.id == token_id and token.user == username]
        if not mine:
            raise TokenError("No such token of yours; it may have been revoked already.")
        _write(root, [token for token in tokens if token not in mine])
    return mine[0]


def authenticate(root: DeployRoot, presented: str) -> StoredToken | None:
    """The stored token ``presented`` is, or None; comparing digests takes the same time whatever matches."""
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX:
        return None
    try:
        tokens = _read(root)
    except TokenError:
        return None
    digest = _digest(parts[2])
    found = None
    for token in tokens:
        if hmac.compare_digest(token.id, parts[1]) & hmac.compare_digest(token.sha256, digest):
            found = token
    if found is not None:
        found.last_used_at = datetime.now(UTC).isoformat(timespec="seconds")
        # When it was last used is a courtesy: a file that cannot be written does not fail the request.
        with contextlib.suppress(OSError, TokenError), _changing(root):
            current = _read(root)
            for token in current:
                if token.id == found.id:
                    token.last_used_at = found.last_used_at
            _write(root, current)
    return found
