from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from django_deploykit.maintenance.schedule import (
    ScheduleError,
    describe_duration,
    parse_duration,
    parse_when,
)

PARIS = ZoneInfo("Europe/Paris")
# 12:00 UTC is 13:00 in Paris in December.
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class ParseWhenTests:
    def test_clock_time_still_ahead_is_today(self) -> None:
        when = parse_when("14:00", "--at", now=NOW, zone=PARIS)
        assert when.moment == datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
        assert when.words == "today at 14:00"

    def test_clock_time_already_past_is_tomorrow(self) -> None:
        when = parse_when("12:30", "--at", now=NOW, zone=PARIS)
        assert when.moment == datetime(2026, 12, 2, 11, 30, tzinfo=UTC)
        assert when.words == "tomorrow at 12:30"

    def test_clock_time_equal_to_now_is_tomorrow(self) -> None:
        when = parse_when("13:00", "--at", now=NOW, zone=PARIS)
        assert when.words == "tomorrow at 13:00"

    def test_clock_time_is_counted_after_a_given_start(self) -> None:
        start = datetime(2026, 12, 1, 22, 0, tzinfo=UTC)  # 23:00 in Paris
        when = parse_when("01:00", "--until", now=NOW, zone=PARIS, after=start)
        assert when.moment == datetime(2026, 12, 2, 0, 0, tzinfo=UTC)

    def test_iso_with_offset(self) -> None:
        when = parse_when("2026-12-03T14:00+01:00", "--at", now=NOW, zone=UTC)
        assert when.moment == datetime(2026, 12, 3, 13, 0, tzinfo=UTC)
        assert when.words == "on 2026-12-03 at 13:00"

    def test_iso_without_offset_is_in_the_project_zone(self) -> None:
        when = parse_when("2026-12-03T14:00", "--at", now=NOW, zone=PARIS)
        assert when.moment == datetime(2026, 12, 3, 13, 0, tzinfo=UTC)

    def test_time_in_a_spring_forward_gap_becomes_the_real_time(self) -> None:
        before_gap = datetime(2027, 3, 28, 0, 0, tzinfo=UTC)  # 01:00 in Paris, the clocks jump at 02:00
        when = parse_when("02:30", "--at", now=before_gap, zone=PARIS)
        assert when.moment.astimezone(PARIS).hour == 3

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("25:00", "--at 25:00: the hour must be between 00 and 23."),
            ("14:60", "--at 14:60: the minutes must be between 00 and 59."),
            ("tea time", "--at 'tea time' is not a time; use HH:MM"),
            ("2026-13-01T10:00", "is not a time"),
        ],
    )
    def test_bad_times_say_what_to_type(self, text: str, message: str) -> None:
        with pytest.raises(ScheduleError) as excinfo:
            parse_when(text, "--at", now=NOW, zone=PARIS)
        assert message in str(excinfo.value)


class HorizonTests:
    @pytest.mark.parametrize(
        "text",
        ["0001-01-01T00:30+01:00", "0001-01-01T00:00+00:00", "9999-12-31T23:59", "2025-11-29T12:00+00:00"],
    )
    def test_a_time_more_than_366_days_from_now_is_refused(self, text: str) -> None:
        with pytest.raises(ScheduleError, match=re.escape(f"--until {text} is more than 366 days from now")):
            parse_when(text, "--until", now=NOW, zone=PARIS)

    def test_366_days_ahead_is_accepted(self) -> None:
        moment = NOW + timedelta(days=366)
        assert parse_when(moment.isoformat(), "--at", now=NOW, zone=PARIS).moment == moment


class ParseDurationTests:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("30m", timedelta(minutes=30)),
            ("1h30m", timedelta(minutes=90)),
            ("90s", timedelta(seconds=90)),
            ("2d", timedelta(days=2)),
            ("1H", timedelta(hours=1)),
        ],
    )
    def test_units(self, text: str, expected: timedelta) -> None:
        assert parse_duration(text, "--for") == expected

    def test_negative_is_refused(self) -> None:
        with pytest.raises(ScheduleError, match=r"--for -5m is negative; give a positive duration"):
            parse_duration("-5m", "--for")

    @pytest.mark.parametrize("text", ["", "5 minutes", "m", "1m1h", "\u0663\u0660m", "\N{SUPERSCRIPT TWO}h"])
    def test_garbage_is_refused(self, text: str) -> None:
        with pytest.raises(ScheduleError, match="is not a duration; write it like 500ms, 90s, 2min or 1h30m"):
            parse_duration(text, "--for")

    def test_a_number_without_a_unit_is_refused(self) -> None:
        # A maintenance window's "--for 30" more likely means minutes than seconds: it needs its unit.
        with pytest.raises(
            ScheduleError, match="--for 30 has no unit; write it with one, such as 30m or 30h"
        ):
            parse_duration("30", "--for")

    @pytest.mark.parametrize(
        "text", ["99999999999d", "4" * 40 + "s", "9" * 5000 + "m", "366d1s", "1d99999999999h"]
    )
    def test_too_long_is_refused_before_any_overflow(self, text: str) -> None:
        with pytest.raises(ScheduleError, match=r"is too long; the longest is 366 days\."):
            parse_duration(text, "--for")

    def test_leading_zeros_are_only_zeros(self) -> None:
        assert parse_duration("0" * 50 + "30m", "--for") == timedelta(minutes=30)

    def test_the_longest(self) -> None:
        assert parse_duration("366d", "--for") == timedelta(days=366)

    def test_too_long_is_refused(self) -> None:
        with pytest.raises(ScheduleError, match=r"--warn 1000d is too long; the longest is 366 days\."):
            parse_duration("1000d", "--warn")

    def test_zero_is_refused(self) -> None:
        with pytest.raises(ScheduleError, match="is zero"):
            parse_duration("0m", "--warn")


class DescribeDurationTests:
    @pytest.mark.parametrize(
        ("seconds", "words"),
        [
            (0, "less than a minute"),
            (59, "less than a minute"),
            (60, "1 minute"),
            (61, "2 minutes"),
            (25 * 60, "25 minutes"),
            (3600 + 300, "1 hour 5 minutes"),
            (26 * 3600, "1 day 2 hours"),
        ],
    )
    def test_words(self, seconds: int, words: str) -> None:
        assert describe_duration(timedelta(seconds=seconds)) == words
