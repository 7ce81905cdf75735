"""Notification targets: where a deploy posts its start, success and failure, parsed and checked.

A target is a dict, from ``DEPLOYKIT_NOTIFICATIONS`` or from the console's runtime settings::

    {"url": "https://hooks.slack.com/services/...", "format": "slack", "events": ["failure"], "name": "ops"}
    {"url": "https://sentry.io/api/0/organizations/ORG/releases/", "format": "sentry",
     "token_env": "SENTRY_AUTH_TOKEN", "projects": ["web"]}

A webhook address is a secret (Slack's path holds its token), so nothing here ever quotes one: a target is
named by its ``name``, or by its scheme and host ("https://hooks.slack.com/…").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, cast
from urllib.parse import urlsplit

from django_deploykit.conf import conf
from django_deploykit.deploy_root import runtime_settings
from django_deploykit.deploy_root.layout import DeployRoot

Event = Literal["start", "success", "failure"]
Format = Literal["slack", "json", "sentry"]

EVENTS: Final[tuple[Event, ...]] = ("start", "success", "failure")
FORMATS: Final[tuple[Format, ...]] = ("slack", "json", "sentry")
KEYS: Final = frozenset({"url", "format", "events", "name", "token_env", "projects"})
NAME_MAX: Final = 80
SETTING: Final = "DEPLOYKIT_NOTIFICATIONS"
# How the console's saved targets are named in messages (shared/console/settings.json).
RUNTIME: Final = "the console's notifications"

_ENV_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_SLUG: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")


class TargetError(ValueError):
    """A target that cannot be used; the message names the entry (never its address) and says what to fix."""


@dataclass(frozen=True)
class Target:
    url: str
    format: Format
    events: tuple[Event, ...]
    name: str | None = None
    token_env: str | None = None
    projects: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """How the target is named wherever it is printed, logged or recorded: never its whole address."""
        return self.name or address_label(self.url)

    def wants(self, event: Event) -> bool:
        return event in self.events


def address_label(url: str) -> str:
    """``https://hooks.slack.com/…``: the scheme and host of ``url``, never its path, query or user-info."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "an unreadable address"
    return f"{parts.scheme}://{host}{port}/…"


def parse_target(entry: Any, where: str) -> Target:
    """The target of ``entry``; ``TargetError`` naming ``where`` (such as ``DEPLOYKIT_NOTIFICATIONS[1]``)."""
    if not isinstance(entry, dict):
        raise TargetError(f"{where} must be a dict with 'url' and 'format', not {type(entry).__name__}.")
    name = entry.get("name")
    if name is not None and (
        not isinstance(name, str) or not name.strip() or len(name) > NAME_MAX or not name.isprintable()
    ):
        raise TargetError(
            f"{where}: 'name' must be a short label of one line (at most {NAME_MAX} characters)."
        )
    url = entry.get("url")
    if not isinstance(url, str) or not url:
        raise TargetError(f"{where}{_called(name)} needs a 'url', the address to post to.")
    shown = f"{where} ({name or address_label(url)})"
    unknown = sorted(str(key) for key in set(entry) - KEYS)
    if unknown:
        raise TargetError(
            f"{shown} has unknown key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
            f"a target takes {', '.join(sorted(KEYS))}."
        )
    _check_url(url, shown)
    form = entry.get("format")
    if form not in FORMATS:
        raise TargetError(f"{shown}: 'format' is {form!r}; use one of {', '.join(map(repr, FORMATS))}.")
    form = cast(Format, form)
    events = _events(entry.get("events"), form, shown)
    if form != "sentry":
        extra = [key for key in ("token_env", "projects") if key in entry]
        if extra:
            raise TargetError(
                f"{shown}: {', '.join(map(repr, extra))} only make sense with the 'sentry' format."
            )
        return Target(url=url, format=form, events=events, name=name)
    token_env = entry.get("token_env")
    if not isinstance(token_env, str) or not _ENV_NAME.match(token_env):
        raise TargetError(
            f"{shown}: a sentry target needs 'token_env', the NAME of the environment variable that holds the "
            "auth token (such as 'SENTRY_AUTH_TOKEN'); the token itself is never written in the settings."
        )
    projects = entry.get("projects")
    if (
        not isinstance(projects, (list, tuple))
        or not projects
        or not all(isinstance(slug, str) and _SLUG.match(slug) for slug in projects)
    ):
        raise TargetError(f"{shown}: a sentry target needs 'projects', a list of Sentry project slugs.")
    return Target(
        url=url, format=form, events=events, name=name, token_env=token_env, projects=tuple(projects)
    )


def parse_targets(entries: Any, source: str) -> list[Target]:
    """Every target of ``entries`` (a list); ``TargetError`` for the first bad one, named ``source[i]``."""
    if not isinstance(entries, (list, tuple)):
        raise TargetError(f"{source} must be a list of targets, not {type(entries).__name__}.")
    return [parse_target(entry, f"{source}[{index}]") for index, entry in enumerate(entries)]


def usable_targets(entries: Sequence[Any], source: str) -> tuple[list[Target], list[str]]:
    """The good targets of ``entries`` and a sentence for each bad one, which is left out."""
    targets, problems = [], []
    for index, entry in enumerate(entries):
        try:
            targets.append(parse_target(entry, f"{source}[{index}]"))
        except TargetError as exc:
            problems.append(f"{exc} It was skipped.")
    return targets, problems


def configured_targets(root: DeployRoot) -> tuple[list[Target], list[str]]:
    """The targets of the setting and those saved in the console, and a sentence for each that was left out.

    ``deploy`` refuses a bad setting before it starts (``parse_targets``); a bad entry saved in the console
    only costs its own notifications.
    """
    targets, problems = usable_targets(_listed(conf.NOTIFICATIONS), SETTING)
    try:
        saved = runtime_settings.read(root).notifications
    except runtime_settings.RuntimeSettingsError as exc:
        problems.append(f"{exc} Its notification targets were skipped.")
        saved = []
    more, troubles = usable_targets(saved, RUNTIME)
    return targets + more, problems + troubles


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _called(name: Any) -> str:
    return f" ({name})" if isinstance(name, str) and name else ""


def _check_url(url: str, shown: str) -> None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError:
        raise TargetError(f"{shown}: 'url' is not a readable address.") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise TargetError(f"{shown}: 'url' must be an http:// or https:// address with a host.")
    if any(char.isspace() or not char.isprintable() for char in url):
        raise TargetError(f"{shown}: 'url' holds white space or a control character.")


def _events(value: Any, form: Format, shown: str) -> tuple[Event, ...]:
    if form == "sentry":
        # A release is marked once it is live: the other events have nothing to mark.
        if value is not None and (not isinstance(value, (list, tuple)) or list(value) != ["success"]):
            raise TargetError(
                f"{shown}: a sentry target marks a release on 'success' only; leave 'events' out."
            )
        return ("success",)
    if value is None:
        return EVENTS
    if (
        not isinstance(value, (list, tuple))
        or not value
        or not all(isinstance(event, str) and event in EVENTS for event in value)
    ):
        raise TargetError(
            f"{shown}: 'events' must be a non-empty list of {', '.join(map(repr, EVENTS))}; leave it out for all three."
        )
    return tuple(event for event in EVENTS if event in value)
