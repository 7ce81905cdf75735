"""The deploy settings of the code in a slot, read in that slot's own interpreter.

The rule (docs/deploy.md, "Which settings govern which step"): what a release configures
takes effect for the deploy that brings it. Once a pull has checked out and installed the
new code, its own ``DEPLOYKIT_*`` settings govern the rest of the pull (static files,
migrations, checks, the reload of the stage server); ``swap_live`` reloads and verifies
with the settings of the code it puts live; ``deploy`` continues with the stages of the
new code's pipeline after its pull. The running process's settings only cover what
happens before the new code can be asked.
"""

from __future__ import annotations

import json
from typing import Any, Final, TypedDict, cast

from django_deploykit.conf import conf
from django_deploykit.deploy_root.slot_commands import CommandLog, SlotProject, run_manage

# Settings a slot reports about itself. Secrets (the revision token) stay out: this output
# goes into stage logs, and both slots read the token from the same shared .env anyway.
REPORTED: Final = (
    "RELOAD",
    "LIVE_URL",
    "STAGE_URL",
    "STAGE_HEALTH_URL",
    "VERIFY_CONSECUTIVE",
    "FORCE_JOURNAL",
    "TEST_SETTINGS",
    "DEPLOY_PIPELINE",
)
COMMAND: Final = "deploykit_settings"


class SlotSettings(TypedDict, total=False):
    """The reported settings as JSON carries them from the slot's interpreter (``REPORTED``). Not total: a
    slot whose deploykit is older may not know a newer setting."""

    RELOAD: dict[str, dict[str, Any]]
    LIVE_URL: str | None
    STAGE_URL: str | None
    STAGE_HEALTH_URL: str | None
    VERIFY_CONSECUTIVE: int
    FORCE_JOURNAL: bool
    TEST_SETTINGS: str | None
    # A list of stage names and stage dicts (docs/deploy.md); parsed by deploy.pipeline.
    DEPLOY_PIPELINE: list[Any] | None


class SlotSettingsError(Exception):
    """The slot's settings could not be read; the message says why."""


def _portable(value: Any) -> Any:
    """A JSON form of a setting value: a callable becomes its dotted path."""
    if callable(value) and not isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    if isinstance(value, dict):
        return {key: _portable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_portable(item) for item in value]
    return value


def current() -> SlotSettings:
    """The reported settings of the running code (what the internal command prints)."""
    return cast(SlotSettings, {name: _portable(getattr(conf, name)) for name in REPORTED})


def read(
    project: SlotProject, env: dict[str, str], timeout: float, log: CommandLog | None = None
) -> SlotSettings:
    """The reported settings of the code in ``project``'s slot, with its production settings."""
    result = run_manage(project, [COMMAND], env=env, timeout=timeout, log=log)
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.exit_code != 0 or not lines:
        detail = (result.stderr.strip().splitlines() or [f"exit {result.exit_code}"])[-1]
        raise SlotSettingsError(f"the settings of {project.slot}'s code could not be read: {detail}")
    data: SlotSettings = json.loads(lines[-1])
    if not isinstance(data.get("RELOAD") or {}, dict):
        raise SlotSettingsError(
            f"DEPLOYKIT_RELOAD of {project.slot}'s code is not a dict of adapters per link "
            "(manage.py check names the problem: django_deploykit.E040)"
        )
    return data


def describe_reload(settings: SlotSettings, link: str) -> str:
    config = (settings.get("RELOAD") or {}).get(link)
    if not config:
        return f"no reload adapter for {link}"
    return f"{link}: {config.get('adapter', '?')}"
