"""Clear exactly this instance's cache keys; the logic is in ``django_deploykit.cache_clearing``."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from django.core.management.base import CommandError

from django_deploykit.cache_clearing.plan import (
    AliasPlan,
    ClearRequest,
    PlanRefused,
    Strategy,
    build_plans,
    sessions_warning,
    setup_from_settings,
)
from django_deploykit.cache_clearing.run import AliasResult, ClearFailed, clear_all, preflight
from django_deploykit.exit_codes import ExitCode
from django_deploykit.management.base import DeploykitCommand, add_format_argument

MAX_BATCH = 100_000
PROGRESS_INTERVAL_SECONDS = 1.0


class Command(DeploykitCommand):
    help = (
        "Delete this instance's cache keys (its KEY_PREFIX, on Redis with SCAN and batched UNLINK), leaving "
        "the other slot's keys, other prefixes and sessions alone. Exit codes: 0 done, 1 refused or failed "
        "with nothing changed, 3 failed after some keys were deleted (docs/exit_codes.md)."
    )
    # The command must run even when our own cache checks fail: it is how their cause gets cleaned up.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "aliases", nargs="*", metavar="ALIAS", help="Cache aliases to clear (default: default)."
        )
        parser.add_argument("--all-aliases", action="store_true", help="Clear every alias of CACHES.")
        namespace = parser.add_mutually_exclusive_group()
        namespace.add_argument("--prefix", help="Clear this KEY_PREFIX instead of the alias's own.")
        namespace.add_argument(
            "--slot",
            help="Clear the keys of this slot (its prefix is the alias's with the slot name swapped).",
        )
        parser.add_argument(
            "--all-versions",
            action="store_true",
            help="Clear every VERSION of the prefix, not only the current one.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be cleared; delete nothing."
        )
        parser.add_argument(
            "--batch",
            type=int,
            default=1000,
            help=f"Keys per SCAN step and per UNLINK or DELETE (1 to {MAX_BATCH}, default 1000).",
        )
        parser.add_argument(
            "--flush",
            action="store_true",
            help="Empty the whole store (FLUSHDB, flush_all, every file or row), whatever the prefix.",
        )
        parser.add_argument(
            "--yes", action="store_true", help="Confirm --flush and clearing sessions without being asked."
        )
        add_format_argument(parser)

    def handle(
        self,
        *args: str,
        aliases: list[str],
        all_aliases: bool,
        prefix: str | None,
        slot: str | None,
        all_versions: bool,
        dry_run: bool,
        batch: int,
        flush: bool,
        yes: bool,
        format: str,
        **options: Any,
    ) -> None:
        self.verbosity = int(options["verbosity"])
        if not 1 <= batch <= MAX_BATCH:
            raise CommandError(f"--batch must be a whole number from 1 to {MAX_BATCH}, not {batch}.")
        request = ClearRequest(
            aliases=tuple(aliases),
            all_aliases=all_aliases,
            prefix=prefix,
            slot=slot,
            all_versions=all_versions,
            flush=flush,
        )
        setup = setup_from_settings()
        try:
            plans = build_plans(request, setup)
        except PlanRefused as exc:
            raise CommandError(str(exc), returncode=ExitCode.FAILED) from exc
        warnings = [sessions_warning(plan, setup) for plan in plans if plan.sessions_at_risk]
        if not dry_run:
            self._confirm(plans, warnings, yes)
        self.document = {"dry_run": dry_run, "aliases": [], "warnings": warnings}
        if not self.json_output:
            for warning in warnings:
                self.stderr.write(self.style.WARNING(warning))
        try:
            preflight(plans)
            results = clear_all(plans, batch=batch, dry_run=dry_run, progress=self._progress_printer())
        except ClearFailed as exc:
            raise CommandError(
                str(exc), returncode=ExitCode.FAILED_PARTWAY if exc.changed else ExitCode.FAILED
            ) from exc
        self.document["aliases"] = [result.as_dict() for result in results]
        if not self.json_output:
            for result in results:
                self._write_result(result)

    def _confirm(self, plans: list[AliasPlan], warnings: list[str], yes: bool) -> None:
        if yes:
            return
        if warnings:
            raise CommandError(
                " ".join(warnings) + " Pass --yes to clear it anyway, or --dry-run to see what would go. "
                "Nothing was cleared.",
                returncode=ExitCode.FAILED,
            )
        flushed = [plan for plan in plans if plan.strategy is Strategy.FLUSH]
        if not flushed:
            return
        stores = ", ".join(f"{plan.alias!r} ({plan.location or plan.backend})" for plan in flushed)
        question = (
            f"--flush empties the whole store of {stores}: every key of every prefix, the other slot's too. "
        )
        # A prompt on stdout would break the JSON document.
        if not sys.stdin.isatty() or self.json_output:
            raise CommandError(
                question + "Pass --yes to confirm (there is no terminal to ask on). Nothing was cleared.",
                returncode=ExitCode.FAILED,
            )
        answer = input(question + "Type 'flush' to continue: ")
        if answer.strip() != "flush":
            raise CommandError("Flush not confirmed. Nothing was cleared.", returncode=ExitCode.FAILED)

    def _progress_printer(self) -> Any:
        if self.verbosity < 1:
            return None
        last = {"at": time.monotonic()}

        def report(alias: str, done: int) -> None:
            now = time.monotonic()
            if self.verbosity >= 2 or now - last["at"] >= PROGRESS_INTERVAL_SECONDS:
                last["at"] = now
                self.stderr.write(f"{alias}: {done} keys so far…")

        return report

    def _write_result(self, result: AliasResult) -> None:
        if self.verbosity < 1:
            return
        where = f"alias {result.alias!r} ({result.location or result.backend})"
        took = f"{result.seconds:.2f} s"
        would = result.dry_run
        if result.strategy is Strategy.REDIS_SCAN or result.strategy is Strategy.DATABASE_ROWS:
            verb = "Would delete" if would else "Deleted"
            namespace = f"{result.prefix}:{'<any version>' if result.version is None else result.version}:*"
            line = f"{verb} {result.keys} keys matching {namespace} from {where} in {took}."
        elif result.strategy is Strategy.MEMCACHED_GENERATION and result.generation is not None:
            old, new = result.generation
            verb = "Would move" if would else "Moved"
            line = (
                f"{verb} prefix {result.prefix!r} of {where} from generation {old} to {new}. It takes effect "
                "when the servers reload: their cache VERSION goes up by one and the old keys "
                "are no longer read."
            )
        elif result.strategy is Strategy.FLUSH:
            count = "an unknown number of" if result.keys is None else str(result.keys)
            verb = "Would flush" if would else "Flushed"
            line = f"{verb} {where}: {count} keys of every prefix, in {took}."
        else:
            line = f"Nothing to clear in {where}."
        self.stdout.write(self.style.SUCCESS(line) if not would else line)
        for item in result.left_alone:
            self.stdout.write(f"  Left alone: {item}.")
