"""The one duration grammar of every duration and timeout option (django_deploykit.durations)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from django_deploykit.durations import DAY, Bounds, DurationError, describe, parse_duration
from django_deploykit.migrate_safe.options import TIMEOUT
from django_deploykit.migrate_safe.timeouts import as_postgres

TIMEOUT_LIKE = Bounds(longest=DAY, zero_means="no limit")
WINDOW_LIKE = Bounds(longest=timedelta(days=7), shortest=timedelta(seconds=1), bare_seconds=False)


class GrammarTests:
    @pytest.mark.parametrize(
        ("text", "seconds"),
        [
            ("500ms", 0.5),
            ("90s", 90.0),
            ("2min", 120.0),
            ("2m", 120.0),
            ("1h30m", 5400.0),
            ("1h 30m", 5400.0),
            ("1h30min", 5400.0),
            ("1m30s", 90.0),
            ("1.5h", 5400.0),
            ("1d", 86400.0),
            ("1H30M", 5400.0),
            (" 1.5 s ", 1.5),
            ("5", 5.0),
            ("0", 0.0),
        ],
    )
    def test_values(self, text: str, seconds: float) -> None:
        assert parse_duration(text, "--x", TIMEOUT_LIKE).total_seconds() == seconds

    @pytest.mark.parametrize(
        "text",
        [
            "",
            "soon",
            "5 parsecs",
            "1e3",
            "inf",
            "nan",
            "30m1h",
            "1h1h",
            "1min30m",
            "1h-30m",
            "\u0663\u0660m",
            "h",
        ],
    )
    def test_not_a_duration(self, text: str) -> None:
        with pytest.raises(
            DurationError, match=r"--x .* is not a duration; write it like 500ms, 90s, 2min or 1h30m"
        ):
            parse_duration(text, "--x", TIMEOUT_LIKE)

    def test_negative(self) -> None:
        with pytest.raises(DurationError, match="--x -5s is negative"):
            parse_duration("-5s", "--x", TIMEOUT_LIKE)

    @pytest.mark.parametrize("text", ["86401s", "1441min", "25h", "2d", "99999999999999999999h"])
    def test_longer_than_the_bound(self, text: str) -> None:
        with pytest.raises(DurationError, match="is too long; the longest is 1 day, or 0 for no limit"):
            parse_duration(text, "--x", TIMEOUT_LIKE)

    def test_zero_only_where_it_means_something(self) -> None:
        assert parse_duration("0s", "--x", TIMEOUT_LIKE) == timedelta(0)
        with pytest.raises(DurationError, match="--for 0m is zero; give a positive duration"):
            parse_duration("0m", "--for", WINDOW_LIKE)

    def test_shortest(self) -> None:
        with pytest.raises(DurationError, match="--for 500ms is too short; the shortest is 1s"):
            parse_duration("500ms", "--for", WINDOW_LIKE)

    def test_a_bare_number_needs_a_unit_where_seconds_would_be_a_slip(self) -> None:
        with pytest.raises(
            DurationError, match="--for 30 has no unit; write it with one, such as 30m or 30h"
        ):
            parse_duration("30", "--for", WINDOW_LIKE)

    def test_describe_speaks_the_grammar(self) -> None:
        for text in ("500ms", "90s", "2m", "1h30m", "1d", "1h30m500ms"):
            delta = parse_duration(text, "--x", TIMEOUT_LIKE)
            assert parse_duration(describe(delta), "--x", TIMEOUT_LIKE) == delta
        assert describe(timedelta(seconds=5400)) == "1h30m"


class MigrateSafeTimeoutTests:
    def test_a_day_at_most_and_zero_lifts_the_limit(self) -> None:
        assert parse_duration("0", "--lock-timeout", TIMEOUT) == timedelta(0)
        with pytest.raises(DurationError, match="longest is 1 day, or 0 for no limit"):
            parse_duration("86401s", "--statement-timeout", TIMEOUT)

    def test_postgres_values_are_milliseconds(self) -> None:
        assert as_postgres(0.25) == "250ms"
        assert as_postgres(0) == "0ms"
