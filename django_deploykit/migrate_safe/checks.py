"""System checks of migrate_safe's settings and reviewed-phases file, ids django_deploykit.E030-E039."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.core.checks import CheckMessage, Error, register

from django_deploykit.conf import conf
from django_deploykit.durations import parse_duration
from django_deploykit.migrate_safe.options import MAX_RETRIES, TIMEOUT
from django_deploykit.migrate_safe.reviews import ReviewFileError, current_reviews
from django_deploykit.migrate_safe.verdicts import validate_phase_setting


def register_checks() -> None:
    register()(check_migration_phases)
    register()(check_timeouts)
    register()(check_reviewed_migrations)


def check_migration_phases(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    return [
        Error(
            problem,
            hint="Map 'app_label.migration_name' to 'additive' or 'destructive'.",
            id="django_deploykit.E030",
        )
        for problem in validate_phase_setting(conf.MIGRATION_PHASES)
    ]


def check_timeouts(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for setting, value in (
        ("DEPLOYKIT_MIGRATE_LOCK_TIMEOUT", conf.MIGRATE_LOCK_TIMEOUT),
        ("DEPLOYKIT_MIGRATE_STATEMENT_TIMEOUT", conf.MIGRATE_STATEMENT_TIMEOUT),
    ):
        try:
            parse_duration(value, setting, TIMEOUT)
        except ValueError as exc:
            errors.append(Error(str(exc), id="django_deploykit.E031"))
    retries, delay = conf.MIGRATE_RETRIES, conf.MIGRATE_RETRY_DELAY
    if not isinstance(retries, int) or isinstance(retries, bool) or not 0 <= retries <= MAX_RETRIES:
        errors.append(
            Error(
                f"DEPLOYKIT_MIGRATE_RETRIES is {retries!r}; use a whole number from 0 to {MAX_RETRIES}.",
                id="django_deploykit.E032",
            )
        )
    if not isinstance(delay, int | float) or isinstance(delay, bool) or delay < 0:
        errors.append(
            Error(
                f"DEPLOYKIT_MIGRATE_RETRY_DELAY is {delay!r}; use a number of seconds, 0 or more.",
                id="django_deploykit.E033",
            )
        )
    return errors


def check_reviewed_migrations(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """The reviewed-phases file parses and every entry is complete: migrate_safe would refuse it."""
    try:
        current_reviews()
    except ReviewFileError as exc:
        return [
            Error(
                str(exc),
                hint="Fix the entry by hand, or move the file away and run 'migrate_safe --review' again.",
                id="django_deploykit.E034",
            )
        ]
    return []
