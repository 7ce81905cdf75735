from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError

from django_deploykit.conf import conf
from django_deploykit.deploy_root import create, locate
from django_deploykit.management.base import DeploykitCommand
from django_deploykit.redact import redact_url


class Command(DeploykitCommand):
    help = (
        "Create a deploy root: two slots (git clones of this checkout, each with its own virtualenv and "
        "REVISION file), the live and stage links, and a shared/ folder. Refuses to overwrite anything."
    )
    # This command creates what the package's own checks look for.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "root", help="The deploy root to create; it must not exist or be an empty folder."
        )
        parser.add_argument(
            "--source",
            help="The git repository the slots clone and later pull from (path or URL); default: the "
            "'origin' remote of the checkout holding this project, else that checkout.",
        )
        parser.add_argument("--ref", help="Branch, tag or commit to check out in both slots.")
        parser.add_argument(
            "--slots",
            nargs=2,
            metavar=("LIVE", "STAGE"),
            default=("blue", "green"),
            help="The two slot names.",
        )
        parser.add_argument("--python", default=sys.executable, help="Interpreter for the virtualenvs.")
        parser.add_argument(
            "--requirements", help="Requirements file inside the checkout to install into each virtualenv."
        )
        parser.add_argument(
            "--system-site-packages",
            action="store_true",
            help="Let the virtualenvs see the interpreter's packages.",
        )
        parser.add_argument(
            "--no-venv", action="store_false", dest="create_venvs", help="Create no virtualenvs."
        )

    def handle(
        self,
        *args: Any,
        root: str,
        source: str | None,
        ref: str | None,
        slots: list[str],
        python: str,
        requirements: str | None,
        system_site_packages: bool,
        create_venvs: bool,
        **options: Any,
    ) -> None:
        verbosity = options["verbosity"]
        if not root.strip():
            raise CommandError(
                "deploykit_init needs ROOT: give the path of the deploy root to create, such as /srv/mysite."
            )
        try:
            source = source if source is not None else create.default_source(locate.project_dir())
            created = create.create_deploy_root(
                create.InitOptions(
                    root=Path(root),
                    source=source,
                    slot_names=(slots[0], slots[1]),
                    ref=ref,
                    deployed_branch=conf.PULL_REF,
                    python=python,
                    requirements=requirements,
                    system_site_packages=system_site_packages,
                    create_venvs=create_venvs,
                ),
                progress=lambda line: self.stdout.write(line) if verbosity >= 1 else None,
            )
        except create.InitError as exc:
            raise CommandError(str(exc)) from exc
        if verbosity >= 1:
            live, stage = created.slot_names
            self.stdout.write(
                self.style.SUCCESS(f"Created the deploy root {created.path} from {redact_url(source)}.")
            )
            self.stdout.write(f"  live -> {live}, stage -> {stage}; shared files in {created.shared_dir}")
            self.stdout.write(f"  the slots pull from {redact_url(source)} (their git remote 'origin')")
            self.stdout.write(
                "  Next: fill in shared/.env, then point your servers at the live and stage links."
            )
