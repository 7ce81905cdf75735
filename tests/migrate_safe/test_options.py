"""Option defaults taken from the settings (the duration grammar: tests/test_durations.py)."""

from __future__ import annotations

import pytest
from django.test.utils import override_settings

from django_deploykit.migrate_safe.options import read_options


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
