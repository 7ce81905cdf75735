"""``manage.py maintenance on|off|status``; the logic is in django_deploykit.maintenance.operations."""

from __future__ import annotations

import re
from datetime import timedelta
from time import sleep
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from django_deploykit.conf import conf
from django_deploykit.maintenance import bypass, operations, stores
from django_deploykit.maintenance.checks import MIDDLEWARE_PATH
from django_deploykit.maintenance.reader import staleness_bound
from django_deploykit.maintenance.schedule import utc_now
from django_deploykit.maintenance.state import Phase
from django_deploykit.management.base import DeploykitCommand, add_format_argument

ACTIONS = ("on", "off", "status")
# Options whose flag is not their dest with dashes: messages name what the user typed.
_FLAGS = {"duration": "--for", "allow_ips": "--allow-ip"}
ON_ONLY = ("at", "duration", "until", "warn", "message", "retry_after", "allow_ips", "secret", "no_wait")


class Command(DeploykitCommand):
    help = (
        "Announce, start, end or show a maintenance window. Exit codes of 'status': 0 idle, 13 announced, "
        "14 active, 15 ended; 1 is an error (docs/exit_codes.md). With --format json, every action prints one JSON object."
    )
    requires_system_checks: list[str] = []

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        # Lets '--for -5m' reach our own check (and its clear message) instead of argparse
        # mistaking '-5m' for an option.
        parser._negative_number_matcher = re.compile(r"^-\d")
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", help="on, off or status.")
        parser.add_argument(
            "--at", help="Start: HH:MM (the next such time in TIME_ZONE), an ISO date-time, or now (default)."
        )
        parser.add_argument("--for", dest="duration", help="Length of the window, such as 30m or 1h30m.")
        parser.add_argument(
            "--until", help="End: HH:MM (the next such time after the start) or ISO date-time."
        )
        parser.add_argument("--warn", help="How long before the start the banner shows, such as 60m.")
        parser.add_argument("--message", help="Text of the banner and of the 503 page.")
        parser.add_argument(
            "--retry-after", help="'auto' (from the end, the default) or a number of seconds for Retry-After."
        )
        parser.add_argument(
            "--allow-ip",
            dest="allow_ips",
            action="extend",
            nargs="+",
            metavar="CIDR",
            help="Client addresses or networks let through the window (replaces the stored list).",
        )
        parser.add_argument(
            "--secret", action="store_true", help="Make a new secret bypass URL and print it once."
        )
        parser.add_argument(
            "--no-wait",
            action="store_true",
            help="Return at once instead of waiting for every worker to see a window that starts now "
            "(at most DEPLOYKIT_MAINTENANCE_STALENESS seconds).",
        )
        parser.add_argument(
            "--scope",
            default=None,
            help="host (a file, the default) or shared (a Redis key for all servers).",
        )
        add_format_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        self.verbosity = int(options["verbosity"])
        action = options["action"]
        if action not in ACTIONS:
            raise CommandError(f"Unknown action {action!r}; use one of: on, off, status.")
        if options["format"] not in ("text", "json"):
            raise CommandError(f"--format {options['format']!r} is not a format; use text or json.")
        if action != "on":
            given = [
                _FLAGS.get(name, f"--{name.replace('_', '-')}")
                for name in ON_ONLY
                if options[name] not in (None, False)
            ]
            if given:
                raise CommandError(
                    f"{', '.join(given)} {'go' if len(given) > 1 else 'goes'} only with 'maintenance on', not "
                    f"with 'maintenance {action}'; nothing was changed."
                )
        if action == "status" and options["scope"] is not None:
            raise CommandError("'maintenance status' shows every scope; leave out --scope.")
        if options["scope"] is not None and options["scope"] not in stores.SCOPES:
            raise CommandError(f"--scope {options['scope']!r} is not a scope; use host or shared.")
        scope = options["scope"] or stores.HOST
        try:
            if action == "on":
                self._on(options, scope)
            elif action == "off":
                self._off(scope)
            else:
                self._status()
        except operations.MaintenanceError as exc:
            raise CommandError(str(exc)) from exc

    def _on(self, options: dict[str, Any], scope: str) -> None:
        now = utc_now()
        zone = timezone.get_default_timezone()
        result = operations.switch_on(
            operations.OnOptions(
                at=options["at"],
                duration=options["duration"],
                until=options["until"],
                warn=options["warn"],
                message=options["message"],
                retry_after=options["retry_after"],
                allow_ips=options["allow_ips"],
                secret=options["secret"],
                scope=scope,
            ),
            now=now,
            zone=zone,
        )
        if self.json_output:
            self.document = {
                "action": "on",
                "updated": result.updated,
                "now": now.isoformat(),
                "window": operations.scope_as_dict(
                    operations.ScopeReport(scope, result.store.describe(), result.state), now
                ),
                "bypass_path": None,
                "waited_seconds": 0,
            }
        elif self.verbosity >= 1:
            verb = "updated" if result.updated else "set"
            self.stdout.write(
                self.style.SUCCESS(f"Maintenance {verb} ({scope} scope, {result.store.describe()}):")
            )
            for note in result.notes:
                self.stdout.write(f"  {note}")
            for line in operations.describe_state(result.state, now=now, zone=zone):
                self.stdout.write(f"  {line}")
        if MIDDLEWARE_PATH not in settings.MIDDLEWARE:
            self.stderr.write(
                self.style.WARNING(
                    f"{MIDDLEWARE_PATH} is not in MIDDLEWARE, so this project will not show the window; "
                    "add it as the first entry."
                )
            )
        if result.secret is not None:
            # Printed once, whatever the verbosity: only its hash is stored.
            path = bypass.bypass_path(conf.ENDPOINTS_PREFIX, result.secret)
            if self.document is not None:
                self.document["bypass_path"] = path
            else:
                self.stdout.write(
                    self.style.WARNING(f"Bypass URL (shown once, keep it private): <your site>{path}")
                )
        bound = staleness_bound()
        starts_within_bound = result.state.start <= now + timedelta(seconds=bound)
        if starts_within_bound and result.state.phase(now) is not Phase.ENDED and not options["no_wait"]:
            # Workers keep the state in memory for up to the staleness bound: when 'on'
            # returns, a migration that follows must find every worker already answering 503.
            if self.document is not None:
                self.document["waited_seconds"] = bound
            elif self.verbosity >= 1:
                self.stdout.write(f"Waiting {bound:g} s for every worker to see the window.")
            sleep(bound)

    def _off(self, scope: str) -> None:
        store, removed = operations.switch_off(scope)
        if self.json_output:
            self.document = {"action": "off", "scope": scope, "store": store.describe(), "removed": removed}
        elif self.verbosity >= 1:
            if removed:
                self.stdout.write(self.style.SUCCESS(f"Maintenance off ({scope} scope, {store.describe()})."))
            else:
                self.stdout.write(f"Maintenance was already off ({scope} scope, {store.describe()}).")

    def _status(self) -> None:
        now = utc_now()
        zone = timezone.get_default_timezone()
        report = operations.status(now)
        if self.json_output:
            self.document = {
                "action": "status",
                "phase": report.phase.value,
                "now": now.isoformat(),
                "scopes": [operations.scope_as_dict(scope, now) for scope in report.scopes],
            }
        else:
            self.stdout.write(f"Maintenance: {report.phase.value}")
            for scope in report.scopes:
                self.stdout.write(f"{scope.scope} scope ({scope.store}):")
                if scope.error:
                    self.stdout.write(self.style.ERROR(f"  {scope.error}"))
                elif scope.state is None:
                    self.stdout.write("  no window")
                else:
                    for line in operations.describe_state(scope.state, now=now, zone=zone):
                        self.stdout.write(f"  {line}")
        if report.errors:
            raise CommandError(
                " ".join(report.errors) + " Run 'maintenance off' for that scope to remove it."
            )
        # The phase is the outcome: scripts read it from the exit code (or the JSON's exit_code).
        self.exit_code = report.exit_code
