"""deploy_check: diagnose a slot (logic in django_deploykit.deploy_check)."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import CommandError

from django_deploykit.conf import conf
from django_deploykit.deploy_check import last
from django_deploykit.deploy_check.diagnose import CheckOptions, diagnose
from django_deploykit.management.base import (
    DeploykitCommand,
    add_format_argument,
    find_deploy_root,
    find_project_subdir,
)


class Command(DeploykitCommand):
    help = (
        "Diagnose the live or stage slot: links, virtualenv, pinned requirements, production settings (DEBUG), "
        "collected static files, pending migrations by phase, and what the running server really serves (from its "
        "revision endpoint). Each finding has a fix. Exit codes: 0 no errors (warnings allowed), 1 errors found or "
        "bad input."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--slot", choices=("live", "stage"), default="live", help="Which slot to diagnose (default live)."
        )
        add_format_argument(parser)

    def handle(self, *args: Any, slot: str, format: str, **options: Any) -> None:
        root = find_deploy_root()
        subdir = find_project_subdir(root)
        check_options = CheckOptions(
            project_subdir=subdir,
            link="live" if slot == "live" else "stage",
            url=conf.LIVE_URL if slot == "live" else conf.STAGE_URL,
            production_variable=(conf.SETTINGS_CHOICE or {}).get("variable", "PRODUCTION"),
            requirements=conf.REQUIREMENTS_FILE,
            token=conf.REVISION_TOKEN,
        )
        findings = diagnose(root, check_options)
        last.save(root, check_options.link, findings)
        errors = [finding for finding in findings if finding.level == "error"]
        self.document = {
            "slot": slot,
            "errors": len(errors),
            "warnings": sum(1 for finding in findings if finding.level == "warning"),
            "findings": [finding.as_dict() for finding in findings],
        }
        if not self.json_output:
            styles = {"ok": self.style.SUCCESS, "warning": self.style.WARNING, "error": self.style.ERROR}
            for finding in findings:
                self.stdout.write(
                    styles[finding.level](f"[{finding.level}] {finding.check}: {finding.detail}")
                )
                if finding.fix and finding.level != "ok":
                    self.stdout.write(f"    fix: {finding.fix}")
        if errors:
            raise CommandError(
                f"deploy_check found {len(errors)} error{'' if len(errors) == 1 else 's'} in the {slot} slot; "
                "each comes with its fix."
            )
