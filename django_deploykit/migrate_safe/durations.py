"""Durations as the options take them: '5s', '500ms', '2min', '1h', or a bare number of seconds."""

from __future__ import annotations

import re

_UNITS = {"ms": 0.001, "s": 1.0, "": 1.0, "min": 60.0, "m": 60.0, "h": 3600.0}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|min|m|h|)\s*$")
# The longest limit: a longer one is a slip; 0 is the way to say "no limit".
MAX_SECONDS = 86_400.0


def parse_duration(text: str, option: str) -> float:
    """Seconds in ``text``; ValueError with a sentence naming ``option`` when it is not a duration."""
    match = _PATTERN.match(str(text))
    if not match:
        raise ValueError(
            f"{option} {text!r} is not a duration; write it like 5s, 500ms, 2min or 0 for no limit."
        )
    seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds > MAX_SECONDS:
        raise ValueError(f"{option} {text!r} is longer than a day; give at most 24h, or 0 for no limit.")
    return seconds


def as_postgres(seconds: float) -> str:
    """A value for SET lock_timeout / statement_timeout (milliseconds; 0 disables)."""
    return f"{round(seconds * 1000)}ms"
