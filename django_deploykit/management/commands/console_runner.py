"""console_runner: run what a queued deploy console asked for (logic in django_deploykit.console.runner)."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import CommandError

from django_deploykit.conf import conf
from django_deploykit.console import runner
from django_deploykit.console.actions import QUEUE
from django_deploykit.management.base import (
    DeploykitCommand,
    add_format_argument,
    find_deploy_root,
    find_project_subdir,
)
from django_deploykit.text import Say


class Command(DeploykitCommand):
    help = (
        "Run the requests a deploy console with DEPLOYKIT_CONSOLE_RUNNER = 'queue' left in shared/console/queue/, "
        "oldest first, each to its end, as the user this command runs as; each request is checked again (its "
        "fields, the user's push right). The systemd path unit server_config renders starts it whenever a "
        "request waits. Exit codes: 0 every request was handled (a command's own failure is in its run's "
        "record); 1 the console does not queue, or bad input (docs/exit_codes.md)."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_format_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        self.verbosity = options["verbosity"]
        if conf.CONSOLE_RUNNER != QUEUE:
            raise CommandError(
                f"DEPLOYKIT_CONSOLE_RUNNER is {conf.CONSOLE_RUNNER!r}: the console starts its commands itself and "
                "queues nothing. Set it to 'queue' to have this command run them."
            )
        root = find_deploy_root()
        handled = runner.run_queue(root, find_project_subdir(root), self.progress)
        self.document = {"handled": [vars(each) for each in handled]}
        self.say([Say(f"{len(handled)} request{'' if len(handled) == 1 else 's'} handled.")])
