"""``manage.py maintenance on|off|status``; the logic is in django_deploykit.maintenance.operations."""

from __future__ import annotations

from time import sleep
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from django_deploykit.exit_codes import ExitCode
from django_deploykit.maintenance import checks, operations, static_page, stores, waiting
from django_deploykit.maintenance.schedule import utc_now
from django_deploykit.management.base import DeploykitCommand, add_format_argument


class Command(DeploykitCommand):
    help = (
        "Announce, start, end or show a maintenance window. Exit codes of 'status': 0 idle, 13 announced, "
        "14 active, 15 ended; 1 is an error (docs/exit_codes.md). With --format json, every action prints one JSON object."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", help="on, off or status.")
        parser.add_argument(
            "--at", help="Start: HH:MM (the next such time in TIME_ZONE), an ISO date-time, or now (default)."
        )
        parser.add_argument("--for", dest="duration", help="Length of the window, such as 30m or 1h30m.")
        parser.add_argument("--until", help="End: HH:MM (next such time after the start) or ISO date-time.")
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
        parser.add_argument("--secret", action="store_true", help="Make a new secret bypass URL, shown once.")
        parser.add_argument(
            "--no-wait",
            action="store_true",
            help="Return at once instead of waiting for every worker to see a window that starts now "
            "(at most DEPLOYKIT_MAINTENANCE_STALENESS seconds).",
        )
        parser.add_argument("--scope", help="host (a file, default) or shared (a Redis key for all servers).")
        add_format_argument(parser)

    def handle(self, *args: Any, action: str, scope: str | None, **options: Any) -> None:
        self.verbosity = int(options["verbosity"])
        if action not in ("on", "off", "status"):
            raise CommandError(f"Unknown action {action!r}; use one of: on, off, status.")
        # call_command hands options over without argparse, so without --format's choices.
        if options["format"] not in ("text", "json"):
            raise CommandError(f"--format {options['format']!r} is not a format; use text or json.")
        try:
            operations.refuse_misplaced_options(action, scope, options)
            if action == "on":
                self._on(options, scope or stores.HOST)
            elif action == "off":
                self._off(scope or stores.HOST)
            else:
                self._status()
        except operations.MaintenanceError as exc:
            raise CommandError(str(exc), returncode=ExitCode.FAILED) from exc

    def _on(self, options: dict[str, Any], scope: str) -> None:
        now, zone = utc_now(), timezone.get_default_timezone()
        result = operations.switch_on(operations.OnOptions.from_options(options, scope), now=now, zone=zone)
        wait = None if options["no_wait"] else waiting.seconds_until_every_worker_sees(result.state, now)
        self.document = operations.on_document(result, now, waited_seconds=wait)
        if self.verbosity >= 1 and not self.json_output:
            self.stdout.write(self.style.SUCCESS(result.headline))
        for line in [*result.notes, *operations.describe_state(result.state, now=now, zone=zone)]:
            self.progress(line)
        self._page(result.page)
        if (warning := checks.missing_middleware_warning()) is not None:
            self.stderr.write(self.style.WARNING(warning))
        if (path := result.bypass_path) is not None and not self.json_output:
            # Printed once, whatever the verbosity: only its hash is stored.
            notice = f"Bypass URL (shown once, keep it private): <your site>{path}"
            self.stdout.write(self.style.WARNING(notice))
        if wait is not None:
            if self.verbosity >= 1 and not self.json_output:
                self.stdout.write(f"Waiting {wait:g} s for every worker to see the window.")
            sleep(wait)

    def _off(self, scope: str) -> None:
        result = operations.switch_off(scope, utc_now())
        self.document = operations.off_document(result)
        if self.verbosity >= 1 and not self.json_output:
            style, said = (self.style.SUCCESS, "off") if result.removed else (str, "was already off")
            self.stdout.write(style(f"Maintenance {said} ({scope} scope, {result.store.describe()})."))
        self._page(result.page)

    def _page(self, page: static_page.PageOutcome) -> None:
        if page.warning is not None:  # on stderr in either format, like the middleware warning
            self.stderr.write(self.style.WARNING(page.warning))
        elif page.path is not None:
            self.progress(f"static page: {page.path}")

    def _status(self) -> None:
        now, zone = utc_now(), timezone.get_default_timezone()
        report = operations.status(now)
        self.document = operations.status_document(report)
        if not self.json_output:
            self.stdout.write(f"Maintenance: {report.phase.value}")
            for scope in report.scopes:
                self.stdout.write(f"{scope.scope} scope ({scope.store}):")
                style = self.style.ERROR if scope.error else str
                for line in operations.describe_scope(scope, now=now, zone=zone):
                    self.stdout.write(style(f"  {line}"))
        report.refuse_unreadable()
        # The phase is the outcome: scripts read it from the exit code (or the JSON's exit_code).
        self.exit_code = report.exit_code
