"""Confirm through the revision endpoint that a server really runs the code it should."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from django_deploykit.redact import redact_error, redact_url
from django_deploykit.servers.endpoints import revision_endpoint


@dataclass
class Verification:
    verified: bool
    attempts: int
    last_seen: dict[str, object] = field(default_factory=dict)
    error: str = ""

    def describe(self) -> str:
        seen = self.last_seen
        if self.verified:
            return f"serving revision {seen.get('revision')} from slot {seen.get('slot')} ({seen.get('sys_prefix')})"
        if seen:
            return (
                f"still reports revision {seen.get('revision')} from slot {seen.get('slot')} with the virtualenv "
                f"{seen.get('sys_prefix')} after {self.attempts} checks"
            )
        return f"did not answer at its revision endpoint ({self.error})"


def wait_for_revision(
    url: str,
    *,
    revision: str | None,
    slot: str,
    timeout: float,
    slot_dir: str | None = None,
    consecutive: int = 3,
    interval: float = 0.2,
    token: str | None = None,
) -> Verification:
    """Poll ``url`` until it reports ``revision`` and ``slot`` ``consecutive`` times in a row.

    With ``slot_dir``, the reported virtualenv must lie inside it too: new code running on
    the old slot's virtualenv is the classic trap of a reload that keeps the master process.
    """
    deadline = time.monotonic() + timeout
    result = Verification(False, 0)
    in_a_row = 0
    while True:
        result.attempts += 1
        try:
            seen = revision_endpoint(url, timeout=min(5.0, max(0.5, timeout)), token=token)
        except (OSError, ValueError) as exc:
            result.error = f"{redact_url(url)}: {redact_error(str(exc), url)}"
            in_a_row = 0
        else:
            result.last_seen = seen
            prefix = str(seen.get("sys_prefix") or "")
            right_venv = (
                slot_dir is None or prefix == slot_dir or prefix.startswith(slot_dir.rstrip("/") + "/")
            )
            if (
                seen.get("slot") == slot
                and (revision is None or seen.get("revision") == revision)
                and right_venv
            ):
                in_a_row += 1
                if in_a_row >= consecutive:
                    result.verified = True
                    return result
            else:
                in_a_row = 0
        if time.monotonic() >= deadline:
            return result
        time.sleep(interval)
