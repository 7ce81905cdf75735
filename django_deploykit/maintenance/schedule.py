"""Parse the times and durations of ``maintenance on`` and describe them in words.

Every function takes ``now`` and the time zone as arguments, so tests choose the clock.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from django_deploykit import durations

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class ScheduleError(ValueError):
    """An option value that is not a valid time or duration; the message says what to type."""


MAX_DURATION = timedelta(days=366)
# --for and --warn: whole windows, so a bare number is more likely minutes than seconds and needs its unit.
WINDOW = durations.Bounds(longest=MAX_DURATION, shortest=timedelta(seconds=1), bare_seconds=False)
# How far from now --at and --until may be: a window is planned within a year, and the
# arithmetic on a date near year 1 or 9999 (the warning before it, a --for after it) overflows.
MAX_DISTANCE = timedelta(days=366)
# [0-9], not \d: \d and int() also take other scripts' digits (Arabic-Indic "30m").
_CLOCK_RE = re.compile(r"^(?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{2})$")


@dataclass(frozen=True)
class When:
    """A moment chosen on the command line, and how to say it back to the operator."""

    moment: datetime
    words: str


def shown(text: str) -> str:
    """``text`` for an error message, its middle cut when it is too long to read."""
    return text if len(text) <= 48 else f"{text[:24]}…{text[-4:]}"


def parse_duration(text: str, option: str) -> timedelta:
    """``--for`` or ``--warn`` in the package's duration grammar (``30m``, ``1h30m``, ``90s``, ``2d``): at least a
    second, at most MAX_DURATION, and always with a unit (``--for 30`` is refused, not taken as seconds)."""
    try:
        return durations.parse_duration(text, option, WINDOW)
    except durations.DurationError as exc:
        raise ScheduleError(str(exc)) from None


def parse_when(text: str, option: str, *, now: datetime, zone: tzinfo, after: datetime | None = None) -> When:
    """Parse ``HH:MM`` (the next such time in ``zone`` after ``after`` or ``now``) or an ISO date-time.

    An ISO value without an offset is read in ``zone``.
    """
    value = text.strip()
    match = _CLOCK_RE.match(value)
    if match:
        hour, minute = int(match["hour"]), int(match["minute"])
        if hour > 23:
            raise ScheduleError(f"{option} {text}: the hour must be between 00 and 23.")
        if minute > 59:
            raise ScheduleError(f"{option} {text}: the minutes must be between 00 and 59.")
        return _next_clock_time(time(hour, minute), now=now, zone=zone, after=after or now)
    not_a_time = ScheduleError(
        f"{option} {shown(text)!r} is not a time; use HH:MM (the next such time in the project's time zone) "
        "or an ISO date-time such as 2026-12-01T14:00+01:00."
    )
    if not value.isascii():
        raise not_a_time
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise not_a_time from None
    too_far = ScheduleError(
        f"{option} {shown(text)} is more than {MAX_DISTANCE.days} days from now; give a time within a year "
        "of now."
    )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    try:
        moment = moment.astimezone(UTC)
    except (OverflowError, ValueError):
        # 0001-01-01T00:30+01:00 is in year 0 in UTC, which datetime cannot hold.
        raise too_far from None
    if abs(moment - now) > MAX_DISTANCE:
        raise too_far
    return When(moment, describe_moment(moment, now=now, zone=zone))


def _next_clock_time(clock: time, *, now: datetime, zone: tzinfo, after: datetime) -> When:
    local_after = after.astimezone(zone)
    day = local_after.date()
    candidate = _localize(day, clock, zone)
    if candidate <= after:
        candidate = _localize(day + timedelta(days=1), clock, zone)
    return When(candidate.astimezone(UTC), describe_moment(candidate, now=now, zone=zone))


def _localize(day: date, clock: time, zone: tzinfo) -> datetime:
    # Round-tripping through UTC moves a time that does not exist (a spring-forward gap)
    # to the real time it names.
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC).astimezone(zone)


def days_from_today(moment: datetime, *, now: datetime, zone: tzinfo) -> int:
    """Calendar days in ``zone`` from ``now`` to ``moment``: 0 today, 1 tomorrow, -1 yesterday."""
    return (moment.astimezone(zone).date() - now.astimezone(zone).date()).days


def duration_parts(delta: timedelta) -> tuple[int, int, int]:
    """Days, hours and minutes of ``delta``, minutes rounded up; all zero under a minute."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 60:
        return 0, 0, 0
    minutes = -(-seconds // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    return days, hours, minutes


def describe_moment(moment: datetime, *, now: datetime, zone: tzinfo) -> str:
    """Say ``today at 14:00``, ``tomorrow at 14:00`` or ``on 2026-12-01 at 14:00`` in ``zone``.

    These words are the operator's and stay in English; the visitor's are in visitor_words.py.
    """
    local = moment.astimezone(zone)
    days = days_from_today(moment, now=now, zone=zone)
    clock = local.strftime("%H:%M")
    if days == 0:
        return f"today at {clock}"
    if days == 1:
        return f"tomorrow at {clock}"
    if days == -1:
        return f"yesterday at {clock}"
    return f"on {local.date().isoformat()} at {clock}"


def describe_duration(delta: timedelta) -> str:
    """Say ``25 minutes``, ``1 hour 5 minutes`` or ``less than a minute``; minutes are rounded up."""
    days, hours, minutes = duration_parts(delta)
    words = []
    for amount, unit in ((days, "day"), (hours, "hour"), (minutes, "minute")):
        if amount:
            words.append(f"{amount} {unit}{'' if amount == 1 else 's'}")
    return " ".join(words) or "less than a minute"
