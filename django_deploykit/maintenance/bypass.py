"""The secret bypass: a URL given once to the operator, which sets a signed, expiring cookie.

Only a hash of the secret is stored. The cookie carries a value derived from that hash and
signed with SECRET_KEY, so a new secret (or a new window) makes old cookies worthless, and
checking a cookie needs no database.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.core import signing

COOKIE_SALT = "django_deploykit.maintenance.bypass"
BYPASS_PATH = "maintenance/bypass/"


def new_secret() -> str:
    return secrets.token_urlsafe(24)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, secret_hash: str | None) -> bool:
    if not secret_hash:
        return False
    return hmac.compare_digest(hash_secret(secret), secret_hash)


def bypass_path(endpoints_prefix: str, secret: str) -> str:
    return f"{endpoints_prefix.rstrip('/')}/{BYPASS_PATH}{secret}"


def _cookie_subject(secret_hash: str) -> str:
    # Not the stored hash itself: the cookie should not carry what the state file holds.
    return hashlib.sha256(f"cookie:{secret_hash}".encode()).hexdigest()[:32]


def make_cookie_value(secret_hash: str) -> str:
    return signing.TimestampSigner(salt=COOKIE_SALT).sign(_cookie_subject(secret_hash))


def cookie_is_valid(value: str | None, secret_hash: str | None, max_age: int) -> bool:
    """True for a cookie signed by us for this secret, younger than ``max_age`` seconds."""
    if not value or not secret_hash:
        return False
    try:
        subject = signing.TimestampSigner(salt=COOKIE_SALT).unsign(value, max_age=max_age)
    except signing.BadSignature:
        # SignatureExpired is a BadSignature too.
        return False
    return hmac.compare_digest(subject, _cookie_subject(secret_hash))
