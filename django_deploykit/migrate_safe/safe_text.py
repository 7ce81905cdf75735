"""Text from the database (errors, other sessions' queries) made fit to print."""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

from django_deploykit.redact import redact_text


def printable(text: str, connection: BaseDatabaseWrapper) -> str:
    """``text`` on one line, with URL passwords and the database password masked: database errors
    and other sessions' queries are printed."""
    password = str(connection.settings_dict.get("PASSWORD") or "")
    return redact_text(" ".join(str(text).split()), (password,))
