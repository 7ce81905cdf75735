"""Slot virtualenvs that see the packages of the interpreter running the demo (or the tests)."""

from __future__ import annotations

import sysconfig
from pathlib import Path


def share_packages(venv: Path) -> None:
    """Let ``venv`` import what this interpreter has installed (Django, gunicorn, django-deploykit).

    A .pth file adds the paths after the virtualenv's own site-packages, so a package installed
    into the slot still wins: that is how the two slots hold different versions of one dependency.
    No network, no second download of Django per slot.
    """
    site_packages = next((venv / "lib").glob("python*/site-packages"))
    paths = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    # addsitedir() also runs those folders' own .pth files (an editable install's finder).
    lines = [f"import site; site.addsitedir({path!r})" for path in paths]
    (site_packages / "zz_shared_packages.pth").write_text("\n".join(lines) + "\n", encoding="utf-8")
