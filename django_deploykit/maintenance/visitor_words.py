"""A window's times and durations in words for the visitor: the banner and the 503 page.

They go through Django's gettext, so they come out in the language active while they are
built (``responses.visitor_language`` chooses it). The operator's words, in the command's
output and errors, come from schedule.py and stay in English.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from django.utils import dateformat
from django.utils.translation import gettext, ngettext, pgettext

from django_deploykit.maintenance.schedule import days_from_today, duration_parts


def clock(moment: datetime, zone: tzinfo) -> str:
    return moment.astimezone(zone).strftime("%H:%M")


def day(moment: datetime, zone: tzinfo) -> str:
    """The date of ``moment`` in ``zone``: ISO 8601 in English, the usual long form elsewhere."""
    # Translators: the format of a date with the letters of Django's "date" template filter
    # (j day, n month number, F month name, Y year; a backslash keeps a letter as it is).
    date_format = pgettext("maintenance date format", "Y-m-d")
    return dateformat.format(moment.astimezone(zone).date(), date_format)


def moment_words(moment: datetime, *, now: datetime, zone: tzinfo) -> str:
    """``today at 14:30``, ``tomorrow at 14:30`` or ``on 2026-12-01 at 14:30``."""
    words = {"time": clock(moment, zone), "date": day(moment, zone)}
    days = days_from_today(moment, now=now, zone=zone)
    if days == 0:
        # Translators: completes "We expect to be back …" on the maintenance page.
        return gettext("today at %(time)s") % words
    if days == 1:
        # Translators: completes "We expect to be back …" on the maintenance page.
        return gettext("tomorrow at %(time)s") % words
    if days == -1:
        # Translators: completes "We expect to be back …" on the maintenance page.
        return gettext("yesterday at %(time)s") % words
    return fixed_moment_words(moment, zone)


def fixed_moment_words(moment: datetime, zone: tzinfo) -> str:
    """``on 2026-12-01 at 14:30``, whatever the day: for the static page, read long after it was written."""
    words = {"time": clock(moment, zone), "date": day(moment, zone)}
    # Translators: completes "We expect to be back …" on the maintenance page.
    return gettext("on %(date)s at %(time)s") % words


def clock_and_day_words(moment: datetime, *, now: datetime, zone: tzinfo) -> str:
    """``14:00`` today, ``14:00 tomorrow`` or ``14:00 on 2026-12-01``: what follows "starts at"."""
    words = {"time": clock(moment, zone), "date": day(moment, zone)}
    days = days_from_today(moment, now=now, zone=zone)
    if days == 0:
        return words["time"]
    if days == 1:
        # Translators: completes "Maintenance starts at …" in templates that override the banner.
        return gettext("%(time)s tomorrow") % words
    return fixed_clock_and_day_words(moment, zone)


def fixed_clock_and_day_words(moment: datetime, zone: tzinfo) -> str:
    """``14:00 on 2026-12-01``, whatever the day: for the static page."""
    words = {"time": clock(moment, zone), "date": day(moment, zone)}
    # Translators: completes "Maintenance starts at …" in templates that override the banner.
    return gettext("%(time)s on %(date)s") % words


def duration_words(delta: timedelta) -> str:
    """``25 minutes``, ``1 hour 5 minutes`` or ``less than a minute``; minutes are rounded up."""
    days, hours, minutes = duration_parts(delta)
    words = []
    if days:
        # Translators: a part of a duration, which always follows "in" ("in 1 day 2 hours").
        words.append(ngettext("%(count)d day", "%(count)d days", days) % {"count": days})
    if hours:
        # Translators: a part of a duration, which always follows "in" ("in 1 day 2 hours").
        words.append(ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours})
    if minutes:
        # Translators: a part of a duration, which always follows "in" ("in 25 minutes").
        words.append(ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes})
    if not words:
        # Translators: follows "in", as in "Maintenance starts at 14:00 (in less than a minute)".
        return gettext("less than a minute")
    return " ".join(words)
