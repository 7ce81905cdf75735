"""The one way every duration and timeout option is written: ``500ms``, ``90s``, ``2min``, ``1h30m``, ``2d``.

A duration is one or more parts, largest unit first, each unit at most once: ``d``, ``h``, ``min`` (or ``m``),
``s``, ``ms``. A part's number may have a decimal fraction (``1.5h``); spaces may stand between a number and
its unit and between parts (``1h 30m``). Upper and lower case are the same.

Each option states its own bounds (``Bounds``): the shortest and longest value, whether zero is allowed (and
what it means there), and whether a bare number is taken as seconds. The timeouts have always been given in
seconds (``--wait-lock 30``) and still take a bare number; a maintenance window never did, because
``--for 30`` is more likely to mean minutes than seconds, so there a number needs its unit. A value outside
the bounds is refused with a sentence naming the option, the value and the bounds.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

# Largest unit first: the order a part must follow, and the seconds each unit stands for.
_UNITS: Final = (("d", 86_400.0), ("h", 3_600.0), ("min", 60.0), ("m", 60.0), ("s", 1.0), ("ms", 0.001))
# [0-9], not \d: \d also takes other scripts' digits. A part is a number and a unit; "m" is not followed by
# "s" or "in" ("ms" and "min" are units of their own).
_PART: Final = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(d|h|min|ms|m(?!s|in)|s)")
_BARE_SECONDS: Final = re.compile(r"[0-9]+(?:\.[0-9]+)?")
# More digits than this is beyond any bound here in any unit, refused before float() sees it.
_MAX_DIGITS: Final = 12
EXAMPLES: Final = "500ms, 90s, 2min or 1h30m"


class DurationError(ValueError):
    """The text is not a duration, or one outside the option's bounds; the message says which and why."""


@dataclass(frozen=True)
class Bounds:
    """What one option accepts: the longest and shortest value, whether zero is allowed (``zero_means`` says
    what it means there, such as "no limit"; ``None`` refuses zero), and whether a bare number is seconds."""

    longest: timedelta
    zero_means: str | None = None
    shortest: timedelta = timedelta(0)
    bare_seconds: bool = True


DAY: Final = timedelta(days=1)
# The bounds of options that several commands share.
WAIT_LOCK: Final = Bounds(longest=DAY, zero_means="failing at once")
VERIFY_TIMEOUT: Final = Bounds(longest=DAY)


def parse_duration(text: str, option: str, bounds: Bounds) -> timedelta:
    """The duration ``text`` gives ``option``; ``DurationError`` with a sentence when it is not one."""
    value = str(text).strip().lower()
    shown = value if len(value) <= 48 else f"{value[:24]}…{value[-4:]}"
    zero = f", or 0 for {bounds.zero_means}" if bounds.zero_means else ""
    if value.startswith("-"):
        raise DurationError(
            f"{option} {shown} is negative; give a positive duration such as {EXAMPLES}{zero}."
        )
    if not bounds.bare_seconds and _BARE_SECONDS.fullmatch(value):
        raise DurationError(f"{option} {shown} has no unit; write it with one, such as {shown}m or {shown}h.")
    seconds = _seconds(value)
    if seconds is None:
        raise DurationError(f"{option} {shown!r} is not a duration; write it like {EXAMPLES}{zero}.")
    if seconds > bounds.longest.total_seconds():
        raise DurationError(
            f"{option} {shown} is too long; the longest is {_in_words(bounds.longest)}{zero}."
        )
    if seconds == 0 and bounds.zero_means is None:
        raise DurationError(f"{option} {shown} is zero; give a positive duration such as {EXAMPLES}.")
    if 0 < seconds < bounds.shortest.total_seconds():
        raise DurationError(
            f"{option} {shown} is too short; the shortest is {describe(bounds.shortest)}{zero}."
        )
    return timedelta(seconds=seconds)


def _seconds(value: str) -> float | None:
    if _BARE_SECONDS.fullmatch(value):
        return _number(value)
    position, total, next_unit = 0, 0.0, 0
    units = [unit for unit, _ in _UNITS]
    while position < len(value):
        match = _PART.match(value, position)
        if match is None:
            return None
        number, unit = _number(match[1]), match[2]
        index = units.index(unit)
        # Largest unit first, each once ("1h30m", not "30m1h" or "1h1h"); "m" and "min" are the same unit.
        if number is None or index < next_unit:
            return None
        next_unit = index + (2 if unit == "min" else 1)
        total += number * dict(_UNITS)[unit]
        position = match.end()
    return total if position else None


def _number(digits: str) -> float | None:
    if len(digits.replace(".", "").lstrip("0")) > _MAX_DIGITS:
        return math.inf
    return float(digits)


def _in_words(delta: timedelta) -> str:
    """A bound as a sentence says it: "1 day", "366 days", "2 hours"; other lengths as ``describe`` writes them."""
    seconds = delta.total_seconds()
    for unit, size in (("day", 86_400), ("hour", 3_600)):
        count, rest = divmod(seconds, size)
        if count and not rest:
            return f"{count:.0f} {unit}{'' if count == 1 else 's'}"
    return describe(delta)


def describe(delta: timedelta) -> str:
    """``delta`` in the grammar's own words: ``1h30m``, ``2d``, ``500ms``."""
    milliseconds = round(delta.total_seconds() * 1000)
    if milliseconds == 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)):
        count, milliseconds = divmod(milliseconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
