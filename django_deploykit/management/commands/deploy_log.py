"""deploy_log: list the deploy history, or show one record with its stage logs."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import CommandError

from django_deploykit.deploy_root import history_view
from django_deploykit.management.base import DeploykitCommand, add_format_argument, find_deploy_root


class Command(DeploykitCommand):
    help = (
        "List the deploy history (pulls, swaps, rollbacks, deploys), newest first, or show one record (by its id "
        "or the start of it) with each stage's result and log. Exit codes: 0 shown, 1 no such record or bad input."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "id", nargs="?", help="A record's id (or its unique start) to show with its stage logs."
        )
        parser.add_argument("--last", type=int, default=20, help="How many records to list (default 20).")
        add_format_argument(parser)

    def handle(self, *args: Any, id: str | None, last: int, format: str, **options: Any) -> None:
        if last < 1:
            raise CommandError("--last must be a positive number of records.")
        root = find_deploy_root()
        if id is None:
            records = history_view.latest(root, last)
            self.document = {"records": [history_view.as_dict(record) for record in records]}
            if self.json_output:
                return
            if not records:
                self.stdout.write("The deploy history is empty.")
            for record in records:
                self.stdout.write(history_view.summary_line(record))
            return
        try:
            record = history_view.find(root, id)
        except history_view.RecordNotFound as exc:
            raise CommandError(str(exc)) from exc
        self.document = history_view.as_dict(record, with_logs=True)
        if self.json_output:
            return
        self.stdout.write(self.style.MIGRATE_HEADING(history_view.summary_line(record, whole=True)))
        for line in history_view.detail_lines(record):
            self.stdout.write(line)
        for stage in history_view.stage_logs(record):
            self.stdout.write(
                self.style.MIGRATE_HEADING(
                    f"--- {stage['number']:02d} {stage['name']}: {stage['status']} ({stage['duration']:.1f} s) "
                    f"{stage['summary']}"
                )
            )
            self.stdout.write(stage["text"].rstrip())
