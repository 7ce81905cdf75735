"""The deploy root's layout: every folder and file name in it, in one place.

A deploy root looks like this::

    <root>/.deploykit-root       JSON: {"slots": ["blue", "green"]}
    <root>/blue/                 a checkout of the app, with its own virtualenv (.venv) and REVISION file
    <root>/green/                the other checkout
    <root>/live -> blue          the slot the public site serves
    <root>/stage -> green        the slot being updated and tested
    <root>/shared/               what survives a swap: .env, media, SQLite files, state
    <root>/shared/maintenance.html  the static page a web server shows while the app server is down
    <root>/shared/log/           the app servers' own logs (rotated by the rendered logrotate file)
    <root>/run/                  the servers' pid files, control sockets and reload files
    <root>/servers/              the server configuration files rendered by server_config
    <root>/logs/<run id>/        one folder of stage logs per pull or deploy
    <root>/history.jsonl         one record per init, pull, swap, rollback, repair, reload and deploy
    <root>/.deploy.lock          the deploy lock (flock), and .deploy.lock.json: who holds it
    <root>/.swap-journal.json    a swap's two renames, while they are under way

These helpers also run while a settings module is being imported (through ``django_deploykit.slots``),
before Django's settings exist, so they take every input as an explicit argument and never read ``conf``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

DEFAULT_SLOT_NAMES: tuple[str, str] = ("blue", "green")
ROOT_MARKER = ".deploykit-root"
ROOT_ENV_VARIABLE = "DEPLOYKIT_ROOT"
SHARED_DIR_NAME = "shared"
RUN_DIR_NAME = "run"
SERVERS_DIR_NAME = "servers"
# Inside shared/: PRODUCTION and the secrets, read by the settings of every process of both slots.
ENV_FILE_NAME = ".env"
# Inside shared/: written by 'maintenance on' and 'off', served by nginx or Apache when the app is down.
MAINTENANCE_PAGE_NAME = "maintenance.html"
SERVER_LOGS_DIR_NAME = "log"
# Inside shared/: what the deploy console keeps (files, not tables: the console works while migrations run).
CONSOLE_DIR_NAME = "console"
# Inside the console folder: settings editable at run time (notification targets, maintenance defaults),
# the CI tokens (hashed) and the audit log of every console action.
RUNTIME_SETTINGS_NAME = "settings.json"
TOKENS_NAME = "tokens.json"
AUDIT_NAME = "audit.jsonl"
# Inside the console folder: the requests a queued console leaves for 'manage.py console_runner'.
QUEUE_DIR_NAME = "queue"
# Each slot's own virtualenv, inside the slot: <root>/<slot>/.venv.
VENV_DIR = ".venv"
LIVE_LINK = "live"
STAGE_LINK = "stage"
# Inside a slot: the commit its checkout is at, written by deploykit_init and deploy_pull.
REVISION_NAME = "REVISION"
LOGS_DIR_NAME = "logs"
HISTORY_NAME = "history.jsonl"
# Inside logs/: the findings of the last deploy_check of a link ("live" or "stage"), for the console.
LAST_CHECK_NAME = "deploy-check-{link}.json"
# Inside logs/: what the last deploy_check started from the console printed.
LAST_CHECK_LOG_NAME = "deploy-check-{link}.log"
# Inside a run's log folder: the run's stages as they go, read by the console's live view.
PROGRESS_NAME = "run.json"
# Inside a run's log folder: what a command started from the console printed (its own errors included).
LAUNCH_LOG_NAME = "launch.log"
LOCK_NAME = ".deploy.lock"
LOCK_HOLDER_NAME = ".deploy.lock.json"
SWAP_JOURNAL_NAME = ".swap-journal.json"

# A slot name becomes a directory name and part of a cache key prefix, so it must be
# safe in both: no path separators, no ``:`` (Django's key separator), no glob characters.
SAFE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_RESERVED_NAMES = frozenset({LIVE_LINK, STAGE_LINK, SHARED_DIR_NAME, RUN_DIR_NAME, SERVERS_DIR_NAME})


@dataclass(frozen=True)
class DeployRoot:
    path: Path
    slot_names: tuple[str, str] = DEFAULT_SLOT_NAMES

    @property
    def shared_dir(self) -> Path:
        return self.path / SHARED_DIR_NAME

    @property
    def run_dir(self) -> Path:
        return self.path / RUN_DIR_NAME

    @property
    def servers_dir(self) -> Path:
        return self.path / SERVERS_DIR_NAME

    @property
    def env_file(self) -> Path:
        return self.shared_dir / ENV_FILE_NAME

    @property
    def maintenance_page(self) -> Path:
        return self.shared_dir / MAINTENANCE_PAGE_NAME

    @property
    def server_logs_dir(self) -> Path:
        return self.shared_dir / SERVER_LOGS_DIR_NAME

    @property
    def console_dir(self) -> Path:
        return self.shared_dir / CONSOLE_DIR_NAME

    @property
    def runtime_settings_file(self) -> Path:
        return self.console_dir / RUNTIME_SETTINGS_NAME

    @property
    def tokens_file(self) -> Path:
        return self.console_dir / TOKENS_NAME

    @property
    def audit_file(self) -> Path:
        return self.console_dir / AUDIT_NAME

    @property
    def console_queue_dir(self) -> Path:
        return self.console_dir / QUEUE_DIR_NAME

    @property
    def live_link(self) -> Path:
        return self.path / LIVE_LINK

    @property
    def stage_link(self) -> Path:
        return self.path / STAGE_LINK

    @property
    def marker(self) -> Path:
        return self.path / ROOT_MARKER

    @property
    def logs_dir(self) -> Path:
        return self.path / LOGS_DIR_NAME

    def last_check_file(self, link: str) -> Path:
        return self.logs_dir / LAST_CHECK_NAME.format(link=link)

    def last_check_log(self, link: str) -> Path:
        return self.logs_dir / LAST_CHECK_LOG_NAME.format(link=link)

    def run_log_dir(self, run_id: str) -> Path:
        return self.logs_dir / run_id

    @property
    def history_file(self) -> Path:
        return self.path / HISTORY_NAME

    @property
    def lock_file(self) -> Path:
        return self.path / LOCK_NAME

    @property
    def lock_holder_file(self) -> Path:
        return self.path / LOCK_HOLDER_NAME

    @property
    def swap_journal(self) -> Path:
        return self.path / SWAP_JOURNAL_NAME

    def slot_dir(self, slot: str) -> Path:
        if slot not in self.slot_names:
            raise ValueError(f"{slot!r} is not one of this deploy root's slots {self.slot_names}.")
        return self.path / slot

    def slot_python(self, slot: str) -> Path:
        return slot_python(self.slot_dir(slot))

    def other_slot(self, slot: str) -> str:
        first, second = self.slot_names
        if slot == first:
            return second
        if slot == second:
            return first
        raise ValueError(f"{slot!r} is not one of this deploy root's slots {self.slot_names}.")


def slot_python(slot_dir: Path) -> Path:
    """The interpreter of a slot's own virtualenv."""
    return slot_dir / VENV_DIR / "bin" / "python"


def validate_slot_names(names: Iterable[str]) -> tuple[str, str]:
    """Return ``names`` as a pair, or raise ``ValueError`` saying what is wrong with them."""
    pair = tuple(names)
    if len(pair) != 2:
        raise ValueError(f"Exactly two slot names are needed, got {len(pair)}: {pair!r}.")
    first, second = pair
    if first == second:
        raise ValueError(f"The two slot names must differ, both are {first!r}.")
    for name in pair:
        if not isinstance(name, str) or not SAFE_NAME_RE.match(name):
            raise ValueError(
                f"Slot name {name!r} must start with a letter or digit and hold only letters, digits, "
                "'-' and '_'."
            )
        if name in _RESERVED_NAMES:
            raise ValueError(f"Slot name {name!r} is reserved for the deploy root's own links and folders.")
    if first.startswith(second) or second.startswith(first):
        # A prefix of the other would make one slot's cache keys match the other's patterns.
        raise ValueError(f"Slot names {first!r} and {second!r} must not be prefixes of each other.")
    return first, second


def read_deploy_root(path: Path) -> DeployRoot:
    """Load the deploy root at ``path`` from its marker file."""
    marker = path / ROOT_MARKER
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return DeployRoot(path=path)
    except (OSError, ValueError) as exc:
        raise ImproperlyConfigured(f"The deploy root marker {marker} cannot be read: {exc}.") from exc
    if not isinstance(data, dict):
        raise ImproperlyConfigured(f"The deploy root marker {marker} must hold a JSON object.")
    try:
        names = validate_slot_names(data.get("slots", DEFAULT_SLOT_NAMES))
    except ValueError as exc:
        raise ImproperlyConfigured(f"The deploy root marker {marker} is invalid: {exc}") from exc
    return DeployRoot(path=path, slot_names=names)


def find_deploy_root(start: Path | str, environ: Mapping[str, str] | None = None) -> DeployRoot | None:
    """Find the deploy root that holds the code at ``start``.

    ``DEPLOYKIT_ROOT`` in ``environ`` wins; otherwise the real path of ``start`` and its
    parents are searched for the marker file. ``None`` means the code is not deployed in
    slots (a developer's checkout, a single-checkout server).
    """
    environ = os.environ if environ is None else environ
    configured = environ.get(ROOT_ENV_VARIABLE, "")
    if configured:
        path = Path(configured)
        if not path.is_dir():
            raise ImproperlyConfigured(
                f"{ROOT_ENV_VARIABLE} is {configured!r}, which is not a directory. Point it at the deploy root "
                "or unset it."
            )
        return read_deploy_root(path.resolve())
    real = Path(start).resolve()
    for candidate in (real, *real.parents):
        if (candidate / ROOT_MARKER).is_file():
            return read_deploy_root(candidate)
    return None
