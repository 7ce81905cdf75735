"""Durations and option defaults taken from the settings."""

from __future__ import annotations

import pytest
from django.test.utils import override_settings

from django_deploykit.migrate_safe.durations import as_postgres, parse_duration
from django_deploykit.migrate_safe.options import read_options


class DurationTests:
    @pytest.mark.parametrize(
        ("text", "seconds"),
        [
            ("5s", 5.0),
            ("500ms", 0.5),
            ("2min", 120.0),
            ("2m", 120.0),
            ("1h", 3600.0),
            ("0", 0.0),
            (" 1.5 s ", 1.5),
        ],
    )
    def test_units(self, text: str, seconds: float) -> None:
        assert parse_duration(text, "--lock-timeout") == seconds

    @pytest.mark.parametrize("text", ["", "soon", "-1s", "5 parsecs", "1e3"])
    def test_not_a_duration(self, text: str) -> None:
        with pytest.raises(ValueError, match="--lock-timeout .* is not a duration; write it like 5s"):
            parse_duration(text, "--lock-timeout")

    @pytest.mark.parametrize("text", ["86401s", "1441min", "99999999999999999999h"])
    def test_longer_than_a_day(self, text: str) -> None:
        with pytest.raises(ValueError, match="is longer than a day; give at most 24h, or 0 for no limit"):
            parse_duration(text, "--statement-timeout")

    def test_postgres_values_are_milliseconds(self) -> None:
        assert as_postgres(0.25) == "250ms"
        assert as_postgres(0) == "0ms"


class OptionDefaultTests:
    def test_defaults_come_from_the_settings(self) -> None:
        with override_settings(
            DEPLOYKIT_MIGRATE_LOCK_TIMEOUT="2s",
            DEPLOYKIT_MIGRATE_STATEMENT_TIMEOUT="1min",
            DEPLOYKIT_MIGRATE_RETRIES=7,
            DEPLOYKIT_MIGRATE_RETRY_DELAY=0.5,
        ):
            options = read_options({"phase": "additive"})
        assert (options.lock_timeout, options.statement_timeout, options.retries, options.retry_delay) == (
            2.0,
            60.0,
            7,
            0.5,
        )

    def test_options_win_over_the_settings(self) -> None:
        with override_settings(DEPLOYKIT_MIGRATE_LOCK_TIMEOUT="2s", DEPLOYKIT_MIGRATE_RETRIES=7):
            options = read_options({"phase": "additive", "lock_timeout": "250ms", "retries": 0})
        assert (options.lock_timeout, options.retries) == (0.25, 0)

    @pytest.mark.parametrize(
        ("raw", "message"),
        [
            ({"database": ""}, "There is no database alias '' in DATABASES"),
            ({"lock_timeout": ""}, "--lock-timeout '' is not a duration"),
            ({"statement_timeout": ""}, "--statement-timeout '' is not a duration"),
            ({"retries": 11}, "--retries 11 is too many"),
        ],
    )
    def test_an_empty_or_huge_value_is_refused_not_defaulted(
        self, raw: dict[str, object], message: str
    ) -> None:
        with pytest.raises(ValueError, match=message):
            read_options({"phase": "additive", **raw})

    def test_the_shipped_defaults(self) -> None:
        options = read_options({})
        assert (options.phase, options.database, options.format, options.lock_timeout, options.retries) == (
            None,
            "default",
            "text",
            5.0,
            3,
        )
        assert options.wait
