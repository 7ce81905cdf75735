"""Which code is the project's own and which was installed: one rule for every "is this ours?".

A slot's virtualenv lives inside the slot (``<slot>/.venv``), so "inside the slot's checkout"
does not make code the project's: Django's own apps would count, with their migrations.
Code is the project's when it lies inside the checkout and outside every installation
location of the interpreter that runs it — its prefixes, its site-packages folders — and
outside any folder that is a virtualenv (holds ``pyvenv.cfg``), wherever that virtualenv is.

The installation locations must be those of the slot's interpreter, so they are asked there
(``INSTALLED_LOCATIONS_SNIPPET``) and judged here with ``is_project_path``.
"""

from __future__ import annotations

import json
import site
import sys
import sysconfig
from collections.abc import Iterable
from pathlib import Path
from typing import Final

# Folder names that only ever hold installed distributions.
_INSTALL_FOLDER_NAMES: Final = frozenset({"site-packages", "dist-packages"})
VENV_MARKER: Final = "pyvenv.cfg"

# Python source run in a slot's interpreter: prints the JSON list of its installation locations.
INSTALLED_LOCATIONS_SNIPPET: Final = """
import json, site, sys, sysconfig
_locations = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
_locations.update(sysconfig.get_paths().get(name, "") for name in ("purelib", "platlib", "stdlib", "platstdlib"))
_locations.update(getattr(site, "getsitepackages", lambda: [])())
_locations.add(getattr(site, "getusersitepackages", lambda: "")())
_installed_locations = sorted(location for location in _locations if location)
"""


def installed_locations() -> list[str]:
    """The installation locations of the running interpreter (what the snippet computes in a slot)."""
    scope: dict[str, object] = {"json": json, "site": site, "sys": sys, "sysconfig": sysconfig}
    exec(INSTALLED_LOCATIONS_SNIPPET, scope)  # noqa: S102 (a constant of this module)
    locations = scope["_installed_locations"]
    assert isinstance(locations, list)
    return [str(location) for location in locations]


def is_project_path(path: Path | str, checkout: Path | str, installed: Iterable[Path | str]) -> bool:
    """Whether ``path`` is the project's own code in ``checkout``, not installed code.

    ``installed`` are the installation locations of the interpreter that imported it.
    """
    real = Path(path).resolve()
    top = Path(checkout).resolve()
    try:
        relative = real.relative_to(top)
    except ValueError:
        return False
    for location in installed:
        location_path = Path(location).resolve()
        if location_path == top or location_path in top.parents:
            # The checkout may sit under a prefix (/usr/src/app, with sys.prefix /usr): only a
            # location inside the checkout marks installed code.
            continue
        if location_path == real or location_path in real.parents:
            return False
    if _INSTALL_FOLDER_NAMES.intersection(relative.parts):
        return False
    folder = top
    for part in relative.parts[:-1] if real.is_file() else relative.parts:
        folder = folder / part
        if (folder / VENV_MARKER).is_file():
            return False
    return True
