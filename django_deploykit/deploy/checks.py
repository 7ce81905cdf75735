"""System checks of the deploy settings (ids django_deploykit.E050-E059, W050-W059)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import Any

from django.apps import AppConfig
from django.core.checks import CheckMessage, Error, register

from django_deploykit.conf import conf
from django_deploykit.deploy.pipeline import PipelineError, parse_pipeline


def check_pipeline(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    try:
        parse_pipeline(conf.DEPLOY_PIPELINE)
    except PipelineError as exc:
        return [
            Error(
                str(exc),
                hint="See docs/deploy.md for the stage forms, or remove the setting for the built-in pipeline.",
                id="django_deploykit.E050",
            )
        ]
    return []


def check_numbers(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    timeout = conf.STAGE_TIMEOUT
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        errors.append(
            Error(
                f"DEPLOYKIT_STAGE_TIMEOUT is {timeout!r}.",
                hint="Give the longest a stage may run, in seconds (a positive number).",
                id="django_deploykit.E051",
            )
        )
    keep = conf.LOG_KEEP
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
        errors.append(
            Error(
                f"DEPLOYKIT_LOG_KEEP is {keep!r}.",
                hint="Give how many runs' stage logs to keep (a positive whole number).",
                id="django_deploykit.E052",
            )
        )
    return errors


def check_paths(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for name, value in (("REQUIREMENTS_FILE", conf.REQUIREMENTS_FILE), ("WHEELHOUSE", conf.WHEELHOUSE)):
        if value is None and name == "REQUIREMENTS_FILE":
            continue
        path = PurePosixPath(str(value))
        if not isinstance(value, str) or not value or path.is_absolute() or ".." in path.parts:
            errors.append(
                Error(
                    f"DEPLOYKIT_{name} is {value!r}.",
                    hint="Give a path relative to the slot's checkout, such as 'requirements.txt' or 'wheelhouse'.",
                    id="django_deploykit.E053",
                )
            )
    return errors


def register_checks() -> None:
    register()(check_pipeline)
    register()(check_numbers)
    register()(check_paths)
