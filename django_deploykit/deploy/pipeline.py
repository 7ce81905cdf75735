"""The stages of ``deploy``, as the DEPLOYKIT_DEPLOY_PIPELINE setting describes them.

An entry is one of:

* a built-in stage name (``BUILTIN_STAGES``);
* ``{"name": ..., "command": "manage.py command", "args": [...], "slot": "live" | "stage"}``, run in that
  slot's own interpreter (the slot is read when the stage starts, so "live" after the swap is the new code);
* ``{"name": ..., "argv": [...]}``, a program run in the deploy root;
* ``{"name": ..., "callable": "dotted.path"}`` or a Python callable, called with a ``StageContext``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from django.utils.module_loading import import_string

BUILTIN_STAGES: Final = (
    "notify",
    "maintenance-on",
    "pull",
    "swap",
    "migrate-destructive",
    "clear-old-cache",
    "maintenance-off",
)
DEFAULT_PIPELINE: Final = BUILTIN_STAGES
SWAP_STAGE: Final = "swap"
PULL_STAGE: Final = "pull"
# Posts the start where it stands; the deploy's end goes to the same targets (deploy/notify.py).
NOTIFY_STAGE: Final = "notify"

Kind = Literal["builtin", "command", "argv", "callable"]


class PipelineError(Exception):
    """The pipeline setting is not valid; the message names the entry."""


@dataclass(frozen=True)
class StageSpec:
    name: str
    kind: Kind
    command: str | None = None
    args: tuple[str, ...] = ()
    slot: Literal["live", "stage"] = "live"
    argv: tuple[str, ...] = ()
    function: Callable[..., Any] | None = field(default=None, compare=False)

    def describe(self) -> str:
        if self.kind == "command":
            return f"manage.py {self.command} {' '.join(self.args)} in the {self.slot} slot".replace(
                "  ", " "
            )
        if self.kind == "argv":
            return " ".join(self.argv)
        if self.kind == "callable":
            return f"call {getattr(self.function, '__qualname__', self.function)}"
        return self.name


def _strings(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        raise PipelineError(f"{what} must be a list of strings.")
    return tuple(value)


def parse_entry(entry: Any, position: int) -> StageSpec:
    where = f"DEPLOYKIT_DEPLOY_PIPELINE[{position}]"
    if isinstance(entry, str):
        if entry not in BUILTIN_STAGES:
            raise PipelineError(
                f"{where} is {entry!r}, which is not a stage; the built-in stages are {', '.join(BUILTIN_STAGES)}, "
                "or give a dict with 'command', 'argv' or 'callable'."
            )
        return StageSpec(entry, "builtin")
    if callable(entry):
        return StageSpec(getattr(entry, "__name__", f"stage-{position}"), "callable", function=entry)
    if not isinstance(entry, dict):
        raise PipelineError(
            f"{where} must be a stage name, a dict or a callable, not {type(entry).__name__}."
        )
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip() or "/" in name:
        raise PipelineError(f"{where} needs a 'name' (a short word without '/').")
    kinds = [key for key in ("command", "argv", "callable") if key in entry]
    if len(kinds) != 1:
        raise PipelineError(f"{where} ({name}) needs exactly one of 'command', 'argv' or 'callable'.")
    unknown = set(entry) - {"name", "command", "args", "slot", "argv", "callable"}
    if unknown:
        raise PipelineError(f"{where} ({name}) has unknown keys: {', '.join(sorted(unknown))}.")
    if kinds[0] == "command":
        if not isinstance(entry["command"], str) or not entry["command"]:
            raise PipelineError(f"{where} ({name}): 'command' must be a management command name.")
        slot = entry.get("slot", "live")
        if slot not in ("live", "stage"):
            raise PipelineError(f"{where} ({name}): 'slot' must be 'live' or 'stage', not {slot!r}.")
        return StageSpec(
            name,
            "command",
            command=entry["command"],
            args=_strings(entry.get("args", []), f"{where} args"),
            slot=slot,
        )
    if kinds[0] == "argv":
        argv = _strings(entry["argv"], f"{where} argv")
        if not argv:
            raise PipelineError(f"{where} ({name}): 'argv' must not be empty.")
        return StageSpec(name, "argv", argv=argv)
    target = entry["callable"]
    if isinstance(target, str):
        try:
            target = import_string(target)
        except ImportError as exc:
            raise PipelineError(f"{where} ({name}): cannot import {entry['callable']!r}: {exc}.") from exc
    if not callable(target):
        raise PipelineError(f"{where} ({name}): 'callable' is not callable.")
    return StageSpec(name, "callable", function=target)


def parse_pipeline(raw: Sequence[Any] | None) -> list[StageSpec]:
    """The stages of the setting (or the built-in pipeline); raise PipelineError on any bad entry."""
    entries = list(DEFAULT_PIPELINE if raw is None else raw)
    if not entries:
        raise PipelineError("DEPLOYKIT_DEPLOY_PIPELINE is empty; leave it unset for the built-in pipeline.")
    stages = [parse_entry(entry, position) for position, entry in enumerate(entries)]
    names = [stage.name for stage in stages]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise PipelineError(f"DEPLOYKIT_DEPLOY_PIPELINE names these stages twice: {', '.join(duplicates)}.")
    return stages


def swap_position(stages: Sequence[StageSpec]) -> int | None:
    """Index of the swap stage: the stages after it run with the new code live."""
    for index, stage in enumerate(stages):
        if stage.name == SWAP_STAGE and stage.kind == "builtin":
            return index
    return None
