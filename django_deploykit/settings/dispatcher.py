"""One switch between production and development settings for every process.

A project's settings package calls ``dispatch(__name__)`` from its ``__init__.py``; then
manage.py, wsgi.py, asgi.py, cron jobs and tests all point ``DJANGO_SETTINGS_MODULE`` at
the package and all choose the same way:

* production when the variable ``PRODUCTION`` **exists**, whatever its value, even empty;
* development when it does not;
* a ``PRODUCTION=`` line in the ``.env`` file counts too, so a server process started by a
  service manager with an empty environment still chooses production.
"""

from __future__ import annotations

import importlib
import os
import sys
import warnings
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Final

from django.core.exceptions import ImproperlyConfigured

from django_deploykit import slots
from django_deploykit.deploy_root import layout
from django_deploykit.settings.environment import (
    DEFAULT_PRODUCTION_VARIABLE,
    FALSE_WORDS,
    DeployEnv,
    Mode,
)
from django_deploykit.settings.safety import production_problems

ENV_FILE_VARIABLE: Final = "DEPLOYKIT_ENV_FILE"
CHOICE_SETTING: Final = "DEPLOYKIT_SETTINGS_CHOICE"


class SettingsModeWarning(UserWarning):
    """The settings mode was chosen in a way the operator may not have meant."""


@dataclass(frozen=True)
class SettingsChoice:
    """Which settings a process loaded, and why."""

    mode: Mode
    module: str
    reason: str
    variable: str
    env_file: Path | None
    base_dir: Path
    deploy_root: layout.DeployRoot | None
    slot: str | None
    warnings: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "module": self.module,
            "reason": self.reason,
            "variable": self.variable,
            "env_file": str(self.env_file) if self.env_file else None,
            "base_dir": str(self.base_dir),
            "deploy_root": str(self.deploy_root.path) if self.deploy_root else None,
            "slot": self.slot,
            "warnings": list(self.warnings),
        }


_current: SettingsChoice | None = None

# The reader the settings modules import; the dispatcher prepares it before loading them.
env = DeployEnv()


def current_choice() -> SettingsChoice | None:
    """Return the choice made by the last ``dispatch`` in this process, if any."""
    return _current


def variables_from_env_file() -> frozenset[str]:
    """The variables this process took from the ``.env`` file, not from its real environment.

    A process that starts a management command (the deploy console) leaves them out of the command's
    environment: the command reads the file again, as it is now, instead of inheriting what the file said
    when this process started."""
    return env.env_file_keys


def dispatch(
    package: str,
    *,
    production: str = "production",
    development: str = "dev",
    variable: str = DEFAULT_PRODUCTION_VARIABLE,
    env_file: Path | str | None = None,
    base_dir: Path | str | None = None,
    environ: MutableMapping[str, str] | None = None,
) -> SettingsChoice:
    """Load the production or development module into the settings package ``package``.

    ``production`` and ``development`` are module names relative to ``package`` unless
    they contain a dot. ``base_dir`` defaults to the folder that holds the project
    package (where manage.py usually is). The ``.env`` file defaults to
    ``DEPLOYKIT_ENV_FILE``, else the deploy root's ``shared/.env``, else ``base_dir/.env``.
    ``environ`` defaults to ``os.environ``; the ``.env`` file's variables are added to it.
    """
    global _current
    target = sys.modules[package]
    base = Path(base_dir) if base_dir is not None else _default_base_dir(target)
    env.environ = os.environ if environ is None else environ
    deploy_root = layout.find_deploy_root(base, env.environ)
    env_path = _env_file_path(env_file, deploy_root, base)

    env.production_variable = variable
    in_process_environment = variable in env.environ
    env.load_env_file(env_path)
    choice_warnings: list[str] = []
    if variable in env.environ:
        mode: Mode = "production"
        value = env.environ[variable]
        where = "the process environment" if in_process_environment else f"the .env file {env_path}"
        reason = f"{variable} is set (to {value!r}) in {where}; its presence alone selects production."
        if value.strip().lower() in FALSE_WORDS - {""}:
            message = (
                f"{variable}={value!r} still selects production settings: only the variable's presence "
                f"counts, not its value. Unset {variable} to run in development."
            )
            choice_warnings.append(message)
            warnings.warn(message, SettingsModeWarning, stacklevel=2)
    else:
        mode = "development"
        env_note = (
            f"nor in the .env file {env_path}"
            if env_path.is_file()
            else f"and there is no .env file at {env_path}"
        )
        reason = f"{variable} is not set in the process environment {env_note}."

    module_name = _qualify(package, production if mode == "production" else development)
    choice = SettingsChoice(
        mode=mode,
        module=module_name,
        reason=reason,
        variable=variable,
        env_file=env_path if env_path.is_file() else None,
        base_dir=base,
        deploy_root=deploy_root,
        slot=slots.current_slot(base, deploy_root),
        warnings=tuple(choice_warnings),
    )
    _current = choice
    env._forced_mode = mode
    env.sources.clear()
    env.collect_problems()
    modules_before = set(sys.modules)
    try:
        module = _import_settings_module(module_name, mode, reason)
    finally:
        variable_problems = env.take_problems()
    values = _public_settings(module)
    problems = list(variable_problems.values())
    if mode == "production":
        unsafe = production_problems(values, lambda name: _describe(name, module_name), env.known_defaults)
        # A variable already reported as missing or invalid is not reported twice.
        problems += [p for p in unsafe if p.split(" ", 1)[0] not in variable_problems]
    if problems:
        # Forget the modules just imported, so that a second attempt in this process (Django
        # retries settings after an error) reads the environment again instead of reusing them.
        for name in set(sys.modules) - modules_before:
            if name.startswith(package + "."):
                del sys.modules[name]
        listing = "\n".join(f"  - {problem}" for problem in problems)
        raise ImproperlyConfigured(
            f"Refusing to load the {mode} settings {module_name} ({reason})\n{listing}"
        )
    vars(target).update(values)
    vars(target)[CHOICE_SETTING] = choice.as_dict()
    return choice


def _describe(name: str, module_name: str) -> str:
    source = env.sources.get(name)
    if source is not None:
        return source.describe()
    return f"{module_name} ({name} is set there, not read from the environment)"


def _import_settings_module(module_name: str, mode: Mode, reason: str) -> ModuleType:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise ImproperlyConfigured(
                f"The {mode} settings module {module_name} does not exist ({reason}) Create it, or pass "
                f"the right module name to dispatch()."
            ) from exc
        raise


def _public_settings(module: ModuleType) -> dict[str, Any]:
    return {name: value for name, value in vars(module).items() if name.isupper()}


def _qualify(package: str, name: str) -> str:
    if name.startswith("."):
        return package + name
    if "." in name:
        return name
    return f"{package}.{name}"


def _default_base_dir(package: ModuleType) -> Path:
    # mysite/settings/__init__.py -> the folder holding mysite/, where manage.py lives.
    if not package.__file__:
        raise ImproperlyConfigured(
            f"Cannot find the folder of {package.__name__}; pass base_dir to dispatch()."
        )
    depth = package.__name__.count(".") + 1
    return Path(package.__file__).resolve().parents[depth]


def _env_file_path(explicit: Path | str | None, deploy_root: layout.DeployRoot | None, base: Path) -> Path:
    if explicit is not None:
        return Path(explicit)
    configured = env.environ.get(ENV_FILE_VARIABLE)
    if configured:
        return Path(configured)
    return slots.shared_dir(deploy_root, base) / layout.ENV_FILE_NAME
