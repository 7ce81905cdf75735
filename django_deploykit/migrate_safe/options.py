"""The command's options, checked before anything touches the database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connections

from django_deploykit.conf import conf
from django_deploykit.durations import DAY, Bounds, parse_duration
from django_deploykit.migrate_safe.phases import PHASE_CHOICES
from django_deploykit.migrate_safe.started import VERDICTS

FORMATS = ("text", "json")
# --lock-timeout, --statement-timeout and their settings: 0 lifts the limit; a day is beyond any plan.
TIMEOUT = Bounds(longest=DAY, zero_means="no limit")
# Each retry waits twice as long as the one before: ten already wait about 17 minutes in all.
MAX_RETRIES = 10


class OptionError(ValueError):
    """An option has a wrong value or does not fit with another; the message says what to do."""


@dataclass
class Options:
    phase: str | None
    app_label: str | None
    migration_name: str | None
    database: str
    plan: bool
    sql: bool
    format: str
    check: bool
    lock_timeout: float
    statement_timeout: float
    retries: int
    retry_delay: float
    wait: bool
    roundtrip: bool
    fake: bool
    resume: bool
    undo: bool
    started: str | None = None
    review: bool = False


def read_options(raw: dict[str, Any]) -> Options:
    phase = raw.get("phase")
    if phase is not None and phase not in PHASE_CHOICES:
        raise OptionError(
            f"Unknown phase {phase!r}; use --phase=additive, --phase=destructive or --phase=all."
        )
    database = raw.get("database")
    database = "default" if database is None else database
    if database not in connections.settings:
        raise OptionError(
            f"There is no database alias {database!r} in DATABASES; use one of: {', '.join(connections.settings)}."
        )
    output = raw.get("format") or "text"
    if output not in FORMATS:
        raise OptionError(f"Unknown format {output!r}; use --format=text or --format=json.")
    lock_timeout = parse_duration(
        _given(raw, "lock_timeout", conf.MIGRATE_LOCK_TIMEOUT), "--lock-timeout", TIMEOUT
    ).total_seconds()
    statement_timeout = parse_duration(
        _given(raw, "statement_timeout", conf.MIGRATE_STATEMENT_TIMEOUT), "--statement-timeout", TIMEOUT
    ).total_seconds()
    retries = raw.get("retries")
    retries = conf.MIGRATE_RETRIES if retries is None else retries
    if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
        raise OptionError(f"--retries {retries!r} is not a whole number of 0 or more.")
    started = raw.get("started")
    if started is not None and started not in VERDICTS:
        raise OptionError(f"--started must be 'applied' or 'not-applied', not {started!r}.")
    if retries > MAX_RETRIES:
        raise OptionError(
            f"--retries {retries} is too many: each retry waits twice as long as the one before; "
            f"give at most {MAX_RETRIES}."
        )
    options = Options(
        phase=phase,
        app_label=raw.get("app_label"),
        migration_name=raw.get("migration_name"),
        database=database,
        plan=bool(raw.get("plan")),
        sql=bool(raw.get("sql")),
        format=output,
        check=bool(raw.get("check")),
        lock_timeout=lock_timeout,
        statement_timeout=statement_timeout,
        retries=retries,
        retry_delay=float(conf.MIGRATE_RETRY_DELAY),
        wait=not raw.get("no_wait"),
        roundtrip=bool(raw.get("roundtrip")),
        fake=bool(raw.get("fake")),
        resume=bool(raw.get("resume")),
        undo=bool(raw.get("undo")),
        started=started,
        review=bool(raw.get("review")),
    )
    _check_combinations(options)
    return options


def _given(raw: dict[str, Any], name: str, default: str) -> str:
    # An empty value is checked like any other, not taken as "use the default".
    value = raw.get(name)
    return default if value is None else str(value)


def _check_combinations(o: Options) -> None:
    if o.sql and not o.plan:
        raise OptionError("--sql shows the SQL of a plan; add --plan.")
    if o.resume and o.undo:
        raise OptionError("Use --resume or --undo, not both.")
    exclusive = [
        name
        for name, on in (
            ("--plan", o.plan),
            ("--check", o.check),
            ("--roundtrip", o.roundtrip),
            ("--resume", o.resume),
            ("--undo", o.undo),
            ("--review", o.review),
        )
        if on
    ]
    if len(exclusive) > 1:
        raise OptionError(f"{' and '.join(exclusive)} do different things; use one at a time.")
    if o.review and (o.phase or o.fake):
        raise OptionError(
            "--review writes the reviewed-phases file and applies nothing; run it without --phase and --fake."
        )
    if o.started and not (o.resume or o.undo):
        raise OptionError(
            "--started goes with --resume or --undo: it says whether the operation a stopped run left "
            "started took effect."
        )
    if o.migration_name and not o.app_label:
        raise OptionError("A migration name needs its app label first.")
