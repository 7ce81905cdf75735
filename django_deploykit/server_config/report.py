"""The lines and the JSON of a server_config run: what was written, what drifted."""

from __future__ import annotations

from typing import Any

from django_deploykit.server_config.files import Drift, Written
from django_deploykit.text import Say


def written_lines(changes: list[Written], steps: list[str], dry_run: bool) -> list[Say]:
    lines = [
        Say(f"{change.path} would be {change.change}" if dry_run else f"{change.change}: {change.path}")
        for change in changes
    ]
    return [*lines, Say("To install them (as root):", "heading"), *(Say(f"    {step}") for step in steps)]


def written_document(changes: list[Written], steps: list[str], dry_run: bool) -> dict[str, Any]:
    return {
        "dry_run": dry_run,
        "files": [
            {
                "file": change.file.name,
                "kind": change.file.kind,
                "path": str(change.path),
                "change": change.change,
            }
            for change in changes
        ],
        "install": steps,
    }


def drift_lines(drift: list[Drift], checked: int, with_diff: bool) -> list[Say]:
    if not drift:
        return [
            Say(f"{checked} files, installed copies included, are as the settings render them.", "success")
        ]
    lines: list[Say] = []
    for found in drift:
        lines.append(Say(f"drift: {found.sentence()}", "error"))
        if found.diff and with_diff:
            lines.append(Say(found.diff.rstrip("\n")))
    lines.append(
        Say("Render them again with 'manage.py server_config', then install them (docs/servers.md).")
    )
    return lines


def drift_document(drift: list[Drift]) -> list[dict[str, str]]:
    return [{"file": found.name, "path": str(found.path), "problem": found.kind} for found in drift]
