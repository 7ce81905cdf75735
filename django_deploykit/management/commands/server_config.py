"""server_config: render the servers' files from the settings, or check them (logic in django_deploykit.server_config)."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import CommandError
from django.utils import timezone

from django_deploykit.conf import conf
from django_deploykit.exit_codes import ExitCode
from django_deploykit.maintenance.static_page import ensure_static_page
from django_deploykit.management.base import (
    DeploykitCommand,
    add_format_argument,
    find_deploy_root,
    find_project_subdir,
)
from django_deploykit.server_config import advice, files, report
from django_deploykit.server_config.plan import KINDS, ServerConfigError, project_plan
from django_deploykit.server_config.render import render
from django_deploykit.text import Say


class Command(DeploykitCommand):
    help = (
        "Render the files the servers need (systemd units, gunicorn or uWSGI settings, the nginx site or the Apache "
        "virtual host, logrotate) from DEPLOYKIT_SERVERS and the deploy root into its servers/ folder, or check "
        "them. Exit codes: 0 written or no drift, 1 bad input (nothing written), 16 --check found drift."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--kind",
            action="append",
            choices=KINDS,
            help="Only this kind of file (repeatable); default every kind the settings call for.",
        )
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--check",
            action="store_true",
            help="Write nothing; compare servers/ and the installed copies (DEPLOYKIT_SERVERS['install']).",
        )
        mode.add_argument("--dry-run", action="store_true", help="Write nothing; say what would change.")
        mode.add_argument("--print", metavar="FILE", dest="print_name", help="Print one rendered file.")
        add_format_argument(parser)

    def handle(
        self,
        *args: Any,
        kind: list[str] | None,
        check: bool,
        dry_run: bool,
        print_name: str | None,
        **options: Any,
    ) -> None:
        root = find_deploy_root()
        try:
            plan = project_plan(root, find_project_subdir(root))
        except ServerConfigError as exc:
            raise CommandError(f"{exc} Nothing was written.") from exc
        needed = plan.kinds()
        for asked in kind or ():
            if asked not in needed:
                raise CommandError(
                    f"This project has no {asked} files: DEPLOYKIT_SERVERS names app_server {plan.app_server!r} and "
                    f"web_server {plan.web_server!r}, which need {', '.join(needed)}. Nothing was written."
                )
        every_file = render(plan, needed)
        refusal = advice.unknown_installs(plan, every_file)
        if refusal:
            raise CommandError(f"{refusal} Nothing was written.")
        rendered = [file for file in every_file if not kind or file.kind in kind]
        names = [file.name for file in rendered]
        warnings = advice.warnings(plan, conf.RELOAD) + advice.access_warnings(
            plan, *files.servers_access(plan)
        )
        self.document = {"directory": str(root.servers_dir), "warnings": warnings}
        if print_name is not None:
            if print_name not in names:
                raise CommandError(
                    f"No rendered file is named {print_name!r}; the files are {', '.join(names)}."
                )
            self.document["content"] = rendered[names.index(print_name)].content
            if not self.json_output:
                self.stdout.write(self.document["content"], ending="")
            return  # the file alone, so that it can be redirected into a file
        if check:
            drift = files.drift(rendered, root.servers_dir, plan.install)
            self.document["drift"] = report.drift_document(drift)
            self.say(
                report.drift_lines(drift, len(rendered), with_diff=options["verbosity"] >= 1), even_quiet=True
            )
            if drift:
                self.exit_code = ExitCode.SERVER_CONFIG_DRIFT
        else:
            try:
                changes = (files.planned_changes if dry_run else files.write)(rendered, root.servers_dir)
            except OSError as exc:
                raise CommandError(
                    f"Could not write {exc.filename or root.servers_dir}: {exc.strerror}. Nothing was written."
                ) from exc
            if not dry_run and plan.web_server:
                # The web server's error page must exist before the first 'maintenance on' writes it.
                try:
                    self.document["static_page"] = str(ensure_static_page(root, timezone.now()))
                except OSError as exc:
                    warnings.append(
                        f"The static maintenance page {root.maintenance_page} could not be written "
                        f"({exc.strerror}); the web server shows its own error page until 'maintenance on' writes it."
                    )
            steps = advice.install_steps(plan, rendered)
            self.document.update(report.written_document(changes, steps, dry_run))
            self.say(report.written_lines(changes, steps, dry_run))
        self.say([Say(warning, "warning") for warning in warnings])
