"""The one rule for "is this the project's code?": never code installed into any environment."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from django_deploykit.project_code import INSTALLED_LOCATIONS_SNIPPET, installed_locations, is_project_path


def _locations_of(python: Path) -> list[str]:
    code = INSTALLED_LOCATIONS_SNIPPET + "\nprint(json.dumps(_installed_locations))\n"
    output = subprocess.run([str(python), "-c", code], check=True, capture_output=True, text=True).stdout
    return list(json.loads(output))


def test_a_virtualenv_inside_the_checkout_is_installed_code(tmp_path: Path) -> None:
    slot = tmp_path / "blue"
    (slot / "mysite" / "polls" / "migrations").mkdir(parents=True)
    # A real virtualenv inside the slot, as deploykit_init makes it; pip is not needed to ask it.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(slot / ".venv")], check=True)
    python = slot / ".venv" / "bin" / "python"
    installed = _locations_of(python)
    site_packages = next((slot / ".venv" / "lib").glob("python*/site-packages"))
    django_admin = site_packages / "django" / "contrib" / "admin"
    django_admin.mkdir(parents=True)

    assert is_project_path(slot / "mysite" / "polls", slot, installed)
    assert is_project_path(slot, slot, installed)  # manage.py at the top of the checkout
    assert not is_project_path(django_admin, slot, installed)
    # Wherever the virtualenv lives and whatever it is called, and even unknown to the interpreter.
    other = slot / "env-old"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(other)], check=True)
    stray = next((other / "lib").glob("python*/site-packages")) / "someapp"
    stray.mkdir()
    assert not is_project_path(stray, slot, [])
    assert not is_project_path(slot / "vendor" / "site-packages" / "lib", slot, [])
    assert not is_project_path(tmp_path / "elsewhere", slot, installed)


def test_a_checkout_below_the_interpreter_prefix_is_still_the_project(tmp_path: Path) -> None:
    # A server image with the code in /usr/src/app and Python's prefix /usr: the prefix is a
    # parent of the checkout, so it says nothing about the code inside it.
    prefix = tmp_path / "usr"
    checkout = prefix / "src" / "app"
    (checkout / "polls").mkdir(parents=True)
    installed = [str(prefix), str(prefix / "lib" / "python3" / "site-packages")]
    assert is_project_path(checkout / "polls", checkout, installed)
    assert not is_project_path(prefix / "lib" / "python3" / "site-packages" / "x", checkout, installed)


def test_the_running_interpreter_knows_its_own_locations() -> None:
    locations = installed_locations()
    assert sys.prefix in locations
    assert any(location.endswith("site-packages") for location in locations)
