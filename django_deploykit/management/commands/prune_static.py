from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError

from django_deploykit.deploy_pull import static_prune
from django_deploykit.management.base import DeploykitCommand, add_format_argument, find_deploy_root


class Command(DeploykitCommand):
    help = (
        "Remove collected static files that neither slot's manifest (staticfiles-<slot>.json, written by "
        "SlotManifestStaticFilesStorage) references. Refuses while a slot has no manifest."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="List what would be removed; remove nothing."
        )
        add_format_argument(parser)

    def handle(self, *args: Any, dry_run: bool, **options: Any) -> None:
        if not settings.STATIC_ROOT:
            raise CommandError("STATIC_ROOT is not set; there is no collected static folder to prune.")
        root = find_deploy_root()
        try:
            result = static_prune.prune(Path(settings.STATIC_ROOT), root.slot_names, dry_run=dry_run)
        except static_prune.PruneRefused as exc:
            raise CommandError(str(exc)) from exc
        self.document = result.as_dict()
        if self.json_output or options["verbosity"] < 1:
            return
        verb = "Would remove" if dry_run else "Removed"
        self.stdout.write(
            f"{verb} {len(result.removed)} file(s), {result.freed_bytes} bytes, from {result.static_root}; "
            f"kept {result.kept} that {', '.join(result.manifests)} reference."
        )
        for name in result.removed if options["verbosity"] >= 2 else []:
            self.stdout.write(f"  {name}")
