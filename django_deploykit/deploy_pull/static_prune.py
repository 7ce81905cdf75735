"""Prune the shared static root: remove collected files that no slot's manifest references.

Both slots collect into one add-only STATIC_ROOT (``SlotManifestStaticFilesStorage``), so
every release's hashed files stay: a page the old slot rendered keeps loading its assets
across a swap. Over many releases they pile up. What is still needed is exactly what the
slots' manifests (``staticfiles-<slot>.json``) name — original and hashed names alike —
so everything else can go. Without a manifest for every slot nothing is removed: a slot
without one may still be serving files nobody can name.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from django_deploykit.deploy_pull.storage import manifest_name


class PruneRefused(Exception):
    """Pruning would be unsafe; the message says why and what to do."""


@dataclass
class PruneResult:
    static_root: str
    manifests: list[str]
    kept: int = 0
    removed: list[str] = field(default_factory=list)
    freed_bytes: int = 0
    dry_run: bool = False

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def referenced(manifest: Path) -> set[str]:
    """Every file a manifest names: the original paths and their hashed copies."""
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PruneRefused(
            f"The manifest {manifest} cannot be read ({exc}); collect that slot's static files again."
        ) from exc
    paths = data.get("paths") if isinstance(data, dict) else None
    if not isinstance(paths, dict):
        raise PruneRefused(f"The manifest {manifest} has no 'paths'; collect that slot's static files again.")
    return {str(name) for pair in paths.items() for name in pair}


def prune(static_root: Path, slots: Iterable[str], *, dry_run: bool = False) -> PruneResult:
    if not static_root.is_dir():
        raise PruneRefused(f"STATIC_ROOT {static_root} is not a folder; nothing to prune.")
    manifests = [static_root / manifest_name(slot) for slot in slots]
    missing = [manifest.name for manifest in manifests if not manifest.is_file()]
    if missing:
        raise PruneRefused(
            f"No {', '.join(missing)} in {static_root}: without a manifest for every slot, files a slot still "
            "serves cannot be told apart. Deploy to that slot (its collectstatic writes the manifest) first; "
            "nothing was removed."
        )
    keep = {manifest.name for manifest in manifests}
    for manifest in manifests:
        keep |= referenced(manifest)
    result = PruneResult(str(static_root), sorted(keep & {m.name for m in manifests}), dry_run=dry_run)
    for directory, _, files in os.walk(static_root):
        for name in files:
            path = Path(directory) / name
            relative = path.relative_to(static_root).as_posix()
            if relative in keep or relative.startswith("staticfiles-"):
                result.kept += 1
                continue
            result.removed.append(relative)
            result.freed_bytes += path.stat().st_size
            if not dry_run:
                path.unlink()
    result.removed.sort()
    return result
