"""What ``maintenance on``, ``off`` and ``status`` do, as plain functions the command calls.

Every input is checked before anything is written, so a bad option leaves the state as it was.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta, tzinfo
from typing import Any

from django_deploykit.conf import conf
from django_deploykit.deploy_root.lock import current_user
from django_deploykit.exit_codes import ExitCode
from django_deploykit.maintenance import bypass, static_page, stores
from django_deploykit.maintenance.client_ip import parse_networks
from django_deploykit.maintenance.schedule import (
    MAX_DURATION,
    ScheduleError,
    describe_duration,
    describe_moment,
    parse_duration,
    parse_when,
    shown,
)
from django_deploykit.maintenance.state import PHASE_WEIGHT, MaintenanceState, Phase, StateError

# The answers of 'maintenance status' (django_deploykit.exit_codes).
PHASE_EXIT_CODES = {
    Phase.IDLE: ExitCode.OK,
    Phase.ANNOUNCED: ExitCode.MAINTENANCE_ANNOUNCED,
    Phase.ACTIVE: ExitCode.MAINTENANCE_ACTIVE,
    Phase.ENDED: ExitCode.MAINTENANCE_ENDED,
}
MAX_RETRY_AFTER = int(MAX_DURATION.total_seconds())
# The command's options that only 'on' takes, by dest, and the flag the user typed for each.
ON_ONLY_FLAGS = {
    "at": "--at",
    "duration": "--for",
    "until": "--until",
    "warn": "--warn",
    "message": "--message",
    "retry_after": "--retry-after",
    "allow_ips": "--allow-ip",
    "secret": "--secret",
    "no_wait": "--no-wait",
}


class MaintenanceError(Exception):
    """A refusal whose message tells the operator what to do; nothing was changed."""


@dataclass(frozen=True)
class OnOptions:
    at: str | None = None
    duration: str | None = None
    until: str | None = None
    warn: str | None = None
    message: str | None = None
    retry_after: str | None = None
    allow_ips: list[str] | None = None
    secret: bool = False
    scope: str = stores.HOST

    @classmethod
    def from_options(cls, options: Mapping[str, Any], scope: str) -> OnOptions:
        """The window that the command's options (by dest) ask for, in ``scope``."""
        return cls(scope=scope, **{f.name: options[f.name] for f in fields(cls) if f.name != "scope"})


@dataclass
class OnResult:
    state: MaintenanceState
    store: stores.Store
    updated: bool
    secret: str | None = None
    notes: list[str] = field(default_factory=list)
    page: static_page.PageOutcome = field(default_factory=static_page.PageOutcome)

    @property
    def headline(self) -> str:
        """What ``on`` says it did, above the window's lines."""
        verb = "updated" if self.updated else "set"
        return f"Maintenance {verb} ({self.store.scope} scope, {self.store.describe()}):"

    @property
    def bypass_path(self) -> str | None:
        """The path of the secret bypass URL made by this run; shown once, as only its hash is stored."""
        return None if self.secret is None else bypass.bypass_path(conf.ENDPOINTS_PREFIX, self.secret)


def refuse_misplaced_options(action: str, scope: str | None, options: Mapping[str, object]) -> None:
    """Refuse, before anything is read or written, options (the command's, by dest) that do not go with
    ``action``."""
    given = [flag for name, flag in ON_ONLY_FLAGS.items() if options[name] not in (None, False)]
    if action != "on" and given:
        raise MaintenanceError(
            f"{', '.join(given)} {'go' if len(given) > 1 else 'goes'} only with 'maintenance on', not "
            f"with 'maintenance {action}'; nothing was changed."
        )
    if action == "status" and scope is not None:
        raise MaintenanceError("'maintenance status' shows every scope; leave out --scope.")
    if scope is not None and scope not in stores.SCOPES:
        raise MaintenanceError(f"--scope {scope!r} is not a scope; use host or shared.")


def store_for(scope: str) -> stores.Store:
    if scope == stores.HOST:
        try:
            return stores.host_store()
        except StateError as exc:
            raise MaintenanceError(str(exc)) from exc
    if scope == stores.SHARED:
        try:
            shared = stores.shared_store()
        except StateError as exc:
            raise MaintenanceError(str(exc)) from exc
        if shared is None:
            raise MaintenanceError(
                "The shared scope needs a Redis cache alias: set DEPLOYKIT_MAINTENANCE_CACHE_ALIAS, or use "
                "--scope host."
            )
        return shared
    raise MaintenanceError(f"--scope {scope!r} is not a scope; use 'host' or 'shared'.")


def default_set_by() -> str:
    """Who set the window, as the deploy history names who ran a deploy (the console's signed-in user when
    it ran the command), and on which host."""
    return f"{current_user()}@{socket.gethostname()}"


def switch_on(options: OnOptions, *, now: datetime, zone: tzinfo, set_by: str | None = None) -> OnResult:
    store = store_for(options.scope)
    try:
        existing = store.read()
    except StateError as exc:
        raise MaintenanceError(
            f"{exc} Fix or remove it ('maintenance off --scope {options.scope}'), then run 'on' again."
        ) from exc
    if existing is not None and existing.phase(now) is Phase.ENDED:
        existing = None
    state, secret, notes = _build_state(options, existing, now=now, zone=zone)
    state = state.updated(set_by=set_by or default_set_by(), set_at=now)
    try:
        store.write(state)
    except StateError as exc:
        raise MaintenanceError(
            f"{exc} Make the folder writable, or point DEPLOYKIT_MAINTENANCE_STATE_FILE at a writable path."
        ) from exc
    # Only once the window is stored: a refused 'on' leaves the page as it was too.
    page = static_page.refresh(state, now)
    return OnResult(
        state=state, store=store, updated=existing is not None, secret=secret, notes=notes, page=page
    )


def _build_state(
    options: OnOptions, existing: MaintenanceState | None, *, now: datetime, zone: tzinfo
) -> tuple[MaintenanceState, str | None, list[str]]:
    notes: list[str] = []
    try:
        if options.at is not None:
            if options.at.strip().lower() == "now":
                start = now
            else:
                when = parse_when(options.at, "--at", now=now, zone=zone)
                start = when.moment
                notes.append(f"Maintenance starts {when.words} ({zone}).")
        else:
            start = existing.start if existing is not None else now
        end = existing.end if existing is not None else None
        if options.duration is not None and options.until is not None:
            raise MaintenanceError("Give either --for or --until, not both.")
        if options.duration is not None:
            end = start + parse_duration(options.duration, "--for")
        elif options.until is not None:
            end = parse_when(options.until, "--until", now=now, zone=zone, after=start).moment
        if options.warn is not None:
            warn_seconds = int(parse_duration(options.warn, "--warn").total_seconds())
        elif existing is not None:
            warn_seconds = existing.warn_seconds
        else:
            warn_seconds = default_warn_seconds()
        # Computed only to fail here rather than in every phase() later: a stored start far
        # from now (kept from before the horizon check, or written by hand) can still overflow.
        start - timedelta(seconds=warn_seconds)
    except ScheduleError as exc:
        raise MaintenanceError(str(exc)) from exc
    except OverflowError as exc:
        raise MaintenanceError(
            "The window's start, end or warning would be out of range of the calendar; run 'maintenance off' "
            "and set the window again."
        ) from exc
    if end is not None and end <= start:
        raise MaintenanceError(
            f"The window would end ({describe_moment(end, now=now, zone=zone)}) before it starts "
            f"({describe_moment(start, now=now, zone=zone)}); give an end after the start."
        )
    if end is not None and end <= now:
        raise MaintenanceError(
            f"The window would already be over ({describe_moment(end, now=now, zone=zone)}); "
            "give a later end."
        )
    retry_after: str | int = existing.retry_after if existing is not None else "auto"
    if options.retry_after is not None:
        retry_after = parse_retry_after(options.retry_after)
    allow_ips = existing.allow_ips if existing is not None else ()
    if options.allow_ips is not None:
        try:
            allow_ips = tuple(str(n) for n in parse_networks(options.allow_ips, "--allow-ip"))
        except ValueError as exc:
            raise MaintenanceError(str(exc)) from exc
    secret = None
    secret_hash = existing.secret_hash if existing is not None else None
    if options.secret:
        secret = bypass.new_secret()
        secret_hash = bypass.hash_secret(secret)
    message = options.message if options.message is not None else (existing.message if existing else "")
    state = MaintenanceState(
        start=start,
        end=end,
        warn_seconds=warn_seconds,
        message=message,
        retry_after=retry_after,
        allow_ips=allow_ips,
        secret_hash=secret_hash,
        version=existing.version + 1 if existing is not None else 1,
    )
    return state, secret, notes


def default_warn_seconds() -> int:
    value = conf.MAINTENANCE_DEFAULT_WARN
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not 0 <= value <= MAX_DURATION.total_seconds()
    ):
        raise MaintenanceError(
            f"DEPLOYKIT_MAINTENANCE_DEFAULT_WARN is {value!r}; give a whole number of seconds from 0 to "
            f"{int(MAX_DURATION.total_seconds())}, or pass --warn."
        )
    return value


def parse_retry_after(value: str) -> str | int:
    text = value.strip().lower()
    if text == "auto":
        return "auto"
    # isdigit() alone takes "²" (and int() then fails) and other scripts' digits.
    if text.isascii() and text.isdecimal():
        digits = text.lstrip("0") or "0"
        if len(digits) > len(str(MAX_RETRY_AFTER)) or int(digits) > MAX_RETRY_AFTER:
            raise MaintenanceError(
                f"--retry-after {shown(value)} is too long; the longest is {MAX_RETRY_AFTER} seconds "
                f"({MAX_DURATION.days} days)."
            )
        return int(digits)
    raise MaintenanceError(
        f"--retry-after {shown(value)!r} is neither 'auto' nor a whole number of seconds; use auto (from the "
        "end) or a number such as 600."
    )


@dataclass
class OffResult:
    store: stores.Store
    removed: bool
    page: static_page.PageOutcome = field(default_factory=static_page.PageOutcome)


def switch_off(scope: str, now: datetime) -> OffResult:
    """Remove the state of ``scope`` (``removed`` says whether there was one), then put back the generic
    static page."""
    store = store_for(scope)
    try:
        removed = store.clear()
    except StateError as exc:
        raise MaintenanceError(f"{exc} Make the folder writable, then run 'maintenance off' again.") from exc
    return OffResult(store=store, removed=removed, page=static_page.refresh(None, now))


@dataclass
class ScopeReport:
    scope: str
    store: str
    state: MaintenanceState | None
    error: str | None = None

    def phase(self, now: datetime) -> Phase:
        return Phase.IDLE if self.state is None else self.state.phase(now)


@dataclass
class StatusReport:
    now: datetime
    scopes: list[ScopeReport]

    @property
    def phase(self) -> Phase:
        return max((s.phase(self.now) for s in self.scopes), key=PHASE_WEIGHT.__getitem__, default=Phase.IDLE)

    @property
    def errors(self) -> list[str]:
        return [s.error for s in self.scopes if s.error]

    @property
    def exit_code(self) -> ExitCode:
        return PHASE_EXIT_CODES[self.phase]

    def refuse_unreadable(self) -> None:
        """Fail ``status``, once it has shown every scope, when a scope's state cannot be read."""
        if self.errors:
            raise MaintenanceError(
                " ".join(self.errors) + " Run 'maintenance off' for that scope to remove it."
            )


def status(now: datetime) -> StatusReport:
    reports = []
    try:
        configured = stores.configured_stores()
    except StateError as exc:
        return StatusReport(now=now, scopes=[ScopeReport(stores.HOST, "(misconfigured)", None, str(exc))])
    for store in configured:
        try:
            reports.append(ScopeReport(store.scope, store.describe(), store.read()))
        except StateError as exc:
            reports.append(ScopeReport(store.scope, store.describe(), None, str(exc)))
    return StatusReport(now=now, scopes=reports)


def time_left(state: MaintenanceState, now: datetime) -> timedelta | None:
    """Until the start while waiting for it, until the end while active; None when unknown."""
    phase = state.phase(now)
    if phase in {Phase.IDLE, Phase.ANNOUNCED}:
        return state.start - now
    if phase is Phase.ACTIVE and state.end is not None:
        return state.end - now
    return None


def scope_as_dict(report: ScopeReport, now: datetime) -> dict[str, Any]:
    data: dict[str, Any] = {
        "scope": report.scope,
        "store": report.store,
        "phase": report.phase(now).value,
        "error": report.error,
    }
    state = report.state
    if state is not None:
        left = time_left(state, now)
        data.update(
            message=state.message,
            start=state.start.isoformat(),
            end=None if state.end is None else state.end.isoformat(),
            announce_from=state.announce_from.isoformat(),
            seconds_left=None if left is None else int(left.total_seconds()),
            retry_after=state.retry_after,
            allow_ips=list(state.allow_ips),
            secret_bypass=state.secret_hash is not None,
            set_by=state.set_by,
            set_at=state.set_at.isoformat(),
            version=state.version,
        )
    return data


def on_document(result: OnResult, now: datetime, *, waited_seconds: float | None) -> dict[str, Any]:
    """The JSON document of ``maintenance on``; ``waited_seconds`` is ``None`` when it did not wait."""
    return {
        "action": "on",
        "updated": result.updated,
        "now": now.isoformat(),
        "window": scope_as_dict(ScopeReport(result.store.scope, result.store.describe(), result.state), now),
        "bypass_path": result.bypass_path,
        "waited_seconds": 0 if waited_seconds is None else waited_seconds,
        **page_fields(result.page),
    }


def off_document(result: OffResult) -> dict[str, Any]:
    """The JSON document of ``maintenance off``."""
    return {
        "action": "off",
        "scope": result.store.scope,
        "store": result.store.describe(),
        "removed": result.removed,
        **page_fields(result.page),
    }


def page_fields(page: static_page.PageOutcome) -> dict[str, Any]:
    """The static page's fields of the ``on`` and ``off`` documents."""
    return {
        "static_page": None if page.path is None else str(page.path),
        "static_page_warning": page.warning,
    }


def status_document(report: StatusReport) -> dict[str, Any]:
    """The JSON document of ``maintenance status``."""
    return {
        "action": "status",
        "phase": report.phase.value,
        "now": report.now.isoformat(),
        "scopes": [scope_as_dict(scope, report.now) for scope in report.scopes],
    }


def describe_scope(report: ScopeReport, *, now: datetime, zone: tzinfo) -> list[str]:
    """The lines ``status`` prints under one scope: why it cannot be read, or its window."""
    if report.error:
        return [report.error]
    if report.state is None:
        return ["no window"]
    return describe_state(report.state, now=now, zone=zone)


def describe_state(state: MaintenanceState, *, now: datetime, zone: tzinfo) -> list[str]:
    """The lines that ``on`` and ``status`` print for one state."""
    phase = state.phase(now)
    lines = [f"phase: {phase.value}"]
    start_words = describe_moment(state.start, now=now, zone=zone)
    if state.start > now:
        lines.append(f"start: {start_words} (in {describe_duration(state.start - now)})")
        announce = describe_moment(state.announce_from, now=now, zone=zone)
        lines.append(f"banner from: {announce}" if state.warn_seconds else "banner: none")
    else:
        lines.append(f"start: {start_words}")
    if state.end is None:
        lines.append("end: none set; 'maintenance off' ends it")
    elif state.end > now:
        lines.append(
            f"end: {describe_moment(state.end, now=now, zone=zone)} (in {describe_duration(state.end - now)})"
        )
    else:
        lines.append(f"end: {describe_moment(state.end, now=now, zone=zone)} (over)")
    lines.append(f"message: {state.message or '(default text)'}")
    lines.append(f"retry-after: {state.retry_after}")
    lines.append(f"allowed IPs: {', '.join(state.allow_ips) or 'none'}")
    lines.append(f"secret bypass: {'yes' if state.secret_hash else 'no'}")
    set_at = describe_moment(state.set_at, now=now, zone=zone)
    lines.append(f"set by: {state.set_by}, {set_at} (version {state.version})")
    return lines
