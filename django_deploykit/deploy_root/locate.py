"""Where the running project sits: its deploy root and its folder inside a slot.

Commands read this at run time, when settings exist, unlike ``slots`` which settings
modules use while they load.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings

from django_deploykit.conf import conf
from django_deploykit.deploy_root import layout


class DeployRootNotFound(Exception):
    pass


def project_dir() -> Path:
    """The folder of the running project (where manage.py is), as the settings know it."""
    choice = conf.SETTINGS_CHOICE or {}
    base = choice.get("base_dir") or getattr(settings, "BASE_DIR", None)
    return Path(base) if base else Path.cwd()


def deploy_root() -> layout.DeployRoot:
    """The deploy root of the running project, or ``DeployRootNotFound`` saying how to set one."""
    if conf.ROOT:
        path = Path(conf.ROOT)
        if not path.is_dir():
            raise DeployRootNotFound(f"DEPLOYKIT_ROOT is {conf.ROOT!r}, which is not a directory.")
        return layout.read_deploy_root(path.resolve())
    found = layout.find_deploy_root(project_dir(), os.environ) or layout.find_deploy_root(
        Path.cwd(), os.environ
    )
    if found is None:
        raise DeployRootNotFound(
            f"No deploy root found above {project_dir()}: create one with 'manage.py deploykit_init ROOT', "
            "or set DEPLOYKIT_ROOT."
        )
    return found


def project_subdir(root: layout.DeployRoot) -> Path:
    """The project's folder relative to its slot, e.g. ``example_project``; the same in both layout."""
    if conf.PROJECT_SUBDIR is not None:
        return Path(conf.PROJECT_SUBDIR)
    real = project_dir().resolve()
    try:
        relative = real.relative_to(root.path.resolve())
    except ValueError:
        raise DeployRootNotFound(
            f"The project {real} is not inside the deploy root {root.path}; set DEPLOYKIT_PROJECT_SUBDIR."
        ) from None
    if not relative.parts or relative.parts[0] not in root.slot_names:
        raise DeployRootNotFound(f"The project {real} is not inside a slot of {root.path}.")
    return Path(*relative.parts[1:])


def production_variable() -> str:
    """The variable whose presence selects the production settings (``DEPLOYKIT_SETTINGS["variable"]``)."""
    return str((conf.SETTINGS_CHOICE or {}).get("variable", "PRODUCTION"))


def running_slot() -> str | None:
    """The slot the running code was imported from, as the settings dispatcher found it; ``None`` outside."""
    slot = (conf.SETTINGS_CHOICE or {}).get("slot")
    return str(slot) if slot else None
