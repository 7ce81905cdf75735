"""Settings a user with the console's edit permission may change while the site runs.

They live in ``shared/console/settings.json`` in the deploy root, not in a table: the console edits them
and a deploy reads them while migrations may be running. What each entry means is checked by its owner
(``notifications.targets`` for notification targets, the console for maintenance defaults); this module
only reads and writes the file. The file holds webhook addresses, which are secrets: it is written for
its owner only.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from django_deploykit.atomic_files import write_atomically
from django_deploykit.deploy_root.layout import DeployRoot

# Only the owner reads it: a webhook address is a credential.
FILE_MODE = 0o600


class RuntimeSettingsError(Exception):
    """The file exists but cannot be read as settings; the message names it."""


@dataclass
class RuntimeSettings:
    # Notification targets as the edit page saved them (see notifications.targets).
    notifications: list[dict[str, Any]] = field(default_factory=list)
    # Defaults the console's maintenance form starts from: message, duration, warn.
    maintenance: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def read(root: DeployRoot) -> RuntimeSettings:
    """The saved settings, or empty ones when nothing was saved yet."""
    path = root.runtime_settings_file
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return RuntimeSettings()
    except (OSError, ValueError) as exc:
        raise RuntimeSettingsError(f"The console's settings file {path} cannot be read: {exc}.") from exc
    if not isinstance(data, dict):
        raise RuntimeSettingsError(f"The console's settings file {path} does not hold a JSON object.")
    notifications = data.get("notifications", [])
    maintenance = data.get("maintenance", {})
    if not isinstance(notifications, list) or not all(isinstance(item, dict) for item in notifications):
        raise RuntimeSettingsError(f"'notifications' in {path} must be a list of objects.")
    if not isinstance(maintenance, dict) or not all(isinstance(v, str) for v in maintenance.values()):
        raise RuntimeSettingsError(f"'maintenance' in {path} must be an object of strings.")
    return RuntimeSettings(notifications=notifications, maintenance=maintenance)


def write(root: DeployRoot, settings: RuntimeSettings) -> None:
    root.console_dir.mkdir(parents=True, exist_ok=True)
    write_atomically(
        root.runtime_settings_file, json.dumps(settings.as_dict(), indent=2, sort_keys=True), mode=FILE_MODE
    )
