"""Create a deploy root from an existing checkout (the ``deploykit_init`` command).

The result::

    <root>/.deploykit-root     {"slots": ["blue", "green"]}
    <root>/blue/               git clone of the source, with .venv/ and REVISION
    <root>/green/              the same
    <root>/live -> blue
    <root>/stage -> green
    <root>/shared/             .env, media/, SQLite files, maintenance state
    <root>/run/                pid files, control sockets, reload files of the servers

Nothing that exists is ever overwritten: the root must not exist or be an empty folder,
and a failure part-way removes what this run created.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Final

import sh

from django_deploykit.deploy_root import dependencies, git, revision
from django_deploykit.deploy_root.layout import (
    ENV_FILE_NAME,
    REVISION_NAME,
    ROOT_MARKER,
    VENV_DIR,
    DeployRoot,
    slot_python,
    validate_slot_names,
)
from django_deploykit.deploy_root.run import record_now
from django_deploykit.deploy_root.slot_commands import run_programs_side_by_side
from django_deploykit.redact import redact_text, redact_url
from django_deploykit.text import tail

# Files deploykit writes into a slot's checkout; excluded so the worktree stays clean.
# REVISION is replaced through a temporary file beside it (atomic_files), named .REVISION.<random>.tmp.
SLOT_EXCLUDES: Final = (f"/{VENV_DIR}/", f"/{REVISION_NAME}", f"/.{REVISION_NAME}.*.tmp")
ENV_TEMPLATE: Final = """\
# Read by every process of both slots (django_deploykit.settings.dispatch).
# The presence of PRODUCTION, whatever its value, selects the production settings.
PRODUCTION=
# SECRET_KEY=
# ALLOWED_HOSTS=www.example.org
# DATABASE_URL=postgres://user:password@127.0.0.1:5432/site
"""


class InitError(Exception):
    """The deploy root cannot be created; the message says why."""


@dataclass(frozen=True)
class InitOptions:
    root: Path
    source: str
    slot_names: tuple[str, str] = ("blue", "green")
    ref: str | None = None
    # What a clone checks out when the source's HEAD names no commit (DEPLOYKIT_PULL_REF).
    deployed_branch: str = "main"
    python: str = "python3"
    requirements: str | None = None
    system_site_packages: bool = False
    create_venvs: bool = True


def source_checkout(start: Path) -> Path:
    """The top of the git checkout that holds ``start``."""
    try:
        return Path(str(sh.git("-C", str(start), "rev-parse", "--show-toplevel")).strip())
    except (sh.ErrorReturnCode, sh.CommandNotFound) as exc:
        raise InitError(f"{start} is not inside a git checkout; pass --source.") from exc


def default_source(start: Path) -> str:
    """What the slots clone when --source is not given: the checkout's ``origin``, else the checkout.

    The slots fetch every later deploy from their own ``origin``: the repository the team pushes
    to, not the folder deploykit_init happened to run in.
    """
    checkout = source_checkout(start)
    try:
        url = str(sh.git("-C", str(checkout), "remote", "get-url", "origin")).strip()
    except sh.ErrorReturnCode:
        return str(checkout)
    if "://" not in url and not url.startswith("/") and ":" not in url:
        # A relative path is relative to the checkout, not to the slot that will use it.
        return str((checkout / url).resolve())
    return url


def create_deploy_root(
    options: InitOptions, progress: Callable[[str], None] = lambda line: None
) -> DeployRoot:
    try:
        names = validate_slot_names(options.slot_names)
    except ValueError as exc:
        raise InitError(str(exc)) from exc
    _check_options(options)
    if options.create_venvs:
        _refuse_borrowed_environment(options)
    root_path = options.root.absolute()
    created_root = _claim_root(root_path)
    root = DeployRoot(root_path, names)
    try:
        _build(root, options, progress)
    except BaseException:
        if created_root:
            shutil.rmtree(root_path, ignore_errors=True)
        else:
            for child in root_path.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)
        raise
    return root


def _check_options(options: InitOptions) -> None:
    """Refuse what git, venv or pip would only refuse (or misread) after the root was created."""
    if not options.source.strip() or options.source.startswith("-"):
        raise InitError(
            f"--source must be the path or URL of a git repository; {options.source!r} is empty or starts with '-'."
        )
    if options.ref is not None:
        problem = git.ref_error(options.ref)
        if problem:
            raise InitError(problem)
    if not options.python.strip():
        raise InitError("--python must name a Python interpreter, such as python3 or /usr/bin/python3.12.")
    if options.requirements is not None:
        path = PurePosixPath(options.requirements)
        if not options.requirements.strip() or path.is_absolute() or ".." in path.parts:
            raise InitError(
                f"--requirements must be a file inside the checkout, such as requirements.txt; "
                f"{options.requirements!r} is not."
            )


def _claim_root(root: Path) -> bool:
    if root.is_symlink() or (root.exists() and not root.is_dir()):
        raise InitError(f"{root} exists and is not a folder; choose a new path for the deploy root.")
    if root.is_dir():
        if any(root.iterdir()):
            raise InitError(
                f"{root} is not empty; deploykit_init never overwrites anything. Choose a new path."
            )
        return False
    if not root.parent.is_dir():
        raise InitError(f"The parent folder {root.parent} does not exist.")
    root.mkdir()
    return True


def _build(root: DeployRoot, options: InitOptions, progress: Callable[[str], None]) -> None:
    for number, slot in enumerate(root.slot_names, start=1):
        _clone(root.path / slot, options, f"[{number}/2] {slot}", progress)
    if options.create_venvs:
        _make_venvs(root, options, progress)
    _lay_out(root, options)


def _clone(slot_dir: Path, options: InitOptions, label: str, progress: Callable[[str], None]) -> None:
    progress(f"{label}: cloning {redact_url(options.source)}")
    try:
        sh.git("clone", "--quiet", "--", options.source, str(slot_dir))
    except sh.ErrorReturnCode as exc:
        raise InitError(
            f"git could not clone {redact_url(options.source)}: "
            + redact_text(exc.stderr.decode(errors="replace").strip())
        ) from exc
    if options.ref is not None:
        try:
            sh.git("-C", str(slot_dir), "checkout", "--quiet", options.ref)
        except sh.ErrorReturnCode as exc:
            raise InitError(
                f"git could not check out --ref {options.ref} in {slot_dir.name}: "
                + redact_text(exc.stderr.decode(errors="replace").strip())
            ) from exc
    elif not _has_head(slot_dir):
        _check_out_the_deployed_branch(slot_dir, options)
    exclude = slot_dir / ".git" / "info" / "exclude"
    exclude.parent.mkdir(parents=True, exist_ok=True)
    with open(exclude, "a", encoding="utf-8") as handle:
        handle.write("\n# django-deploykit\n" + "\n".join(SLOT_EXCLUDES) + "\n")
    revision.write_revision(slot_dir)
    if options.requirements and not (slot_dir / options.requirements).is_file():
        raise InitError(f"The requirements file {options.requirements} is not in the checkout.")


def _has_head(checkout: Path) -> bool:
    try:
        sh.git("-C", str(checkout), "rev-parse", "--verify", "--quiet", "HEAD")
    except sh.ErrorReturnCode:
        return False
    return True


def _check_out_the_deployed_branch(slot_dir: Path, options: InitOptions) -> None:
    """A clone with nothing checked out: the source's HEAD names a branch nobody pushed (a bare repository
    made with ``git init --bare`` says ``master`` while the team pushes ``main``). Take the branch deploys
    pull instead, as ``deploy_pull`` would."""
    try:
        sh.git("-C", str(slot_dir), "checkout", "--quiet", options.deployed_branch)
    except sh.ErrorReturnCode:
        raise InitError(
            f"{redact_url(options.source)} has no commit at its HEAD, and no branch {options.deployed_branch} "
            "(DEPLOYKIT_PULL_REF) either: push the branch you deploy, or give --ref. Nothing was created."
        ) from None


def _refuse_borrowed_environment(options: InitOptions) -> None:
    """--system-site-packages shares the *base* interpreter's packages, never a virtualenv's."""
    if not options.system_site_packages:
        return
    interpreter = shutil.which(options.python) or options.python
    venv = Path(interpreter).absolute().parent.parent
    if (venv / "pyvenv.cfg").is_file():
        raise InitError(
            f"--python {options.python} belongs to the virtualenv {venv}, and --system-site-packages would "
            "let the slots see the packages of the Python it was made from, not that virtualenv's: the slots "
            "could not import what you installed there. Leave out --system-site-packages and pass "
            "--requirements so each slot installs its own packages."
        )


def _make_venvs(root: DeployRoot, options: InitOptions, progress: Callable[[str], None]) -> None:
    """Both slots' virtualenvs side by side (two processes at a time, no threads), then their requirements."""
    slot_dirs = [root.path / slot for slot in root.slot_names]
    for number, slot_dir in enumerate(slot_dirs, start=1):
        progress(f"[{number}/2] {slot_dir.name}: creating its virtualenv with {options.python}")
    venv_flags = ["--system-site-packages"] if options.system_site_packages else []
    created = run_programs_side_by_side(
        [
            ([options.python, "-m", "venv", *venv_flags, str(slot_dir / VENV_DIR)], root.path)
            for slot_dir in slot_dirs
        ],
        timeout=600.0,
    )
    for result in created:
        if result.exit_code != 0:
            raise InitError(
                f"Could not create a virtualenv with {options.python}: {tail(result.stderr or result.stdout)}"
            )
    installs = []
    for number, slot_dir in enumerate(slot_dirs, start=1):
        requirements = dependencies.requirements_file(slot_dir, options.requirements)
        if requirements is not None:
            progress(f"[{number}/2] {slot_dir.name}: installing {options.requirements} with pip")
            installs.append((slot_python(slot_dir), slot_dir, requirements))
    # The same pip call as deploy_pull's dependencies stage, and the same record of what was
    # installed, so the first pull into a slot does not install everything again.
    for (_, slot_dir, _), result in zip(
        installs, dependencies.install_side_by_side(installs, timeout=3600.0), strict=True
    ):
        if result.exit_code != 0:
            raise InitError(
                f"pip could not install {options.requirements} into {slot_dir.name} (exit {result.exit_code}): "
                + tail(result.stderr or result.stdout)
            )


def _lay_out(root: DeployRoot, options: InitOptions) -> None:
    shared = root.shared_dir
    (shared / "media").mkdir(parents=True)
    root.run_dir.mkdir()
    env_file = shared / ENV_FILE_NAME
    env_file.write_text(ENV_TEMPLATE, encoding="utf-8")
    os.chmod(env_file, 0o600)
    os.symlink(root.slot_names[0], root.live_link)
    os.symlink(root.slot_names[1], root.stage_link)
    (root.path / ROOT_MARKER).write_text(
        json.dumps({"slots": list(root.slot_names)}) + "\n", encoding="utf-8"
    )
    record_now(
        root,
        "init",
        "ok",
        to_slot=root.slot_names[0],
        to_revision=revision.read_revision(root.path / root.slot_names[0]),
        message=f"created from {redact_url(options.source)}",
    )
