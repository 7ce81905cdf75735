"""Slots install their packages the way a user's do: real pip, from the project's requirements.

The package under test reaches a slot as a user's requirements line would bring it from the
package index: as a wheel, built here from this checkout. Speed comes from one wheel cache per
test run: the first deploy root of the run builds it (the package's wheel, and wheels of its
dependencies at the versions this test environment runs, Django included); every slot then
installs from it with ``pip install -r requirements.txt``, through the ordinary pip
configuration variables (``PIP_FIND_LINKS``, ``PIP_NO_INDEX``) that any child — deploykit_init,
deploy_pull's dependencies stage — inherits, exactly as a team's private index or wheelhouse
would be configured.

``PIP_NO_COMPILE`` is the one liberty taken: pip skips writing .pyc files, which Python then
writes on first import; what is installed and from where is unchanged.
"""

from __future__ import annotations

import atexit
import importlib.metadata
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PROJECT_REQUIREMENTS = REPO_ROOT / "example_project" / "requirements.txt"

# pip's own configuration as this run found it: building the cache may use the package index.
_PIP_CONFIGURATION = {key: value for key, value in os.environ.items() if key.startswith("PIP_")}
_lock = threading.Lock()
_wheelhouse: Path | None = None
_added: set[str] = set()


def _pip_wheel(target: Path, *args: str) -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--disable-pip-version-check",
            "-w",
            str(target),
            *args,
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("PIP_")}, **_PIP_CONFIGURATION},
    )
    if completed.returncode != 0:
        raise RuntimeError(f"pip wheel {' '.join(args)} failed:\n{completed.stdout}\n{completed.stderr}")


def _constraints(target: Path) -> Path:
    """Dependencies at the versions this test environment runs: the slots test the same Django."""
    pins = []
    for name in ("Django", "django-environ", "sh", "filelock", "gunicorn", "asgiref", "sqlparse"):
        try:
            pins.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    path = target.parent / "constraints.txt"
    path.write_text("\n".join(pins) + "\n", encoding="utf-8")
    return path


def wheelhouse() -> Path:
    """The run's wheel cache, built on first use: this checkout's wheel and the project's requirements."""
    global _wheelhouse
    with _lock:
        if _wheelhouse is None:
            base = Path(tempfile.mkdtemp(prefix="deploykit-test-wheels-"))
            atexit.register(shutil.rmtree, base, True)
            target = base / "wheels"
            target.mkdir()
            # Built from a copy, so the build leaves nothing (build/, *.egg-info) in the checkout.
            tree = base / "django-deploykit"
            shutil.copytree(
                REPO_ROOT,
                tree,
                ignore=shutil.ignore_patterns(".git", ".tox", ".venv", "__pycache__", "build", "*.egg-info"),
            )
            _pip_wheel(target, "--no-deps", str(tree))
            _pip_wheel(
                target,
                "--find-links",
                str(target),
                "-c",
                str(_constraints(target)),
                "-r",
                str(PROJECT_REQUIREMENTS),
                # The build backend, so a pip that builds a package (the demo builds this one)
                # finds it in the cache too, with no index.
                "setuptools>=77",
            )
            _wheelhouse = target
        return _wheelhouse


def add_to_wheelhouse(*requirements: str) -> None:
    """Wheels for what a few tests add to a slot (a database driver), once per run."""
    missing = [requirement for requirement in requirements if requirement not in _added]
    if not missing:
        return
    target = wheelhouse()
    with _lock:
        _pip_wheel(target, "--find-links", str(target), *missing)
        _added.update(missing)


def pip_environment() -> dict[str, str]:
    """What makes every pip in a slot install from the run's wheel cache, and nothing else."""
    return {
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(wheelhouse()),
        "PIP_NO_COMPILE": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }


def use_wheelhouse() -> dict[str, str]:
    """Point this process's pip children at the run's wheel cache; return those variables."""
    variables = pip_environment()
    os.environ.update(variables)
    return variables


def pip_environment_in_use() -> dict[str, str]:
    """The pip variables once a deploy root of this run has built the wheel cache, else none."""
    return pip_environment() if _wheelhouse is not None else {}
