"""Typed reading of environment variables, remembering where each value came from.

Values are read raw: unlike django-environ's getters, a value that starts with ``$`` is
never taken for a reference to another variable, so a generated SECRET_KEY such as
``$x9…`` works. The ``.env`` file has a reader of its own (``env_file``): django-environ's
drops a line it cannot read with a warning, and that line may be ``PRODUCTION=``.
django-environ is used for what it does well: database and cache URLs (see ``service_urls``).
"""

from __future__ import annotations

import builtins
import json
import os
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, TypeVar

from django.core.exceptions import ImproperlyConfigured

from django_deploykit.settings.env_file import parse_env_file
from django_deploykit.settings.service_urls import parse_cache_url, parse_database_url

Mode = Literal["production", "development"]
Origin = Literal["environment", "env_file", "default"]

DEFAULT_PRODUCTION_VARIABLE: Final = "PRODUCTION"
TRUE_WORDS: Final = frozenset({"1", "true", "yes", "on", "y", "t"})
FALSE_WORDS: Final = frozenset({"0", "false", "no", "off", "n", "f", ""})

T = TypeVar("T")


class _Unset:
    def __repr__(self) -> str:
        return "NOTSET"


NOTSET: Final = _Unset()


@dataclass(frozen=True)
class ValueSource:
    """Where the value of one setting came from."""

    variable: str
    origin: Origin
    env_file: Path | None = None

    def describe(self) -> str:
        if self.origin == "environment":
            return f"the environment variable {self.variable} (set in the process environment)"
        if self.origin == "env_file":
            return f"the environment variable {self.variable} (set in the .env file {self.env_file})"
        return f"the default given for {self.variable} in the settings ({self.variable} is not set)"


class DeployEnv:
    """Reads settings from the environment with types, sources and production-only requirements.

    ``dev_default`` is used only in development: in production the variable is required,
    so "required in production, defaulted in development" is one declaration.
    """

    def __init__(
        self,
        environ: MutableMapping[str, str] | None = None,
        production_variable: str = DEFAULT_PRODUCTION_VARIABLE,
    ) -> None:
        self.environ: MutableMapping[str, str] = os.environ if environ is None else environ
        self.production_variable = production_variable
        self.env_file: Path | None = None
        self.env_file_keys: frozenset[str] = frozenset()
        self.sources: dict[str, ValueSource] = {}
        self.known_defaults: set[str] = set()
        self._forced_mode: Mode | None = None
        self._deferred_problems: dict[str, str] | None = None

    # -- mode and .env -----------------------------------------------------------------

    @property
    def mode(self) -> Mode:
        if self._forced_mode is not None:
            return self._forced_mode
        return "production" if self.production_variable in self.environ else "development"

    def load_env_file(self, path: Path) -> frozenset[str]:
        """Add the variables of ``path`` that the real environment does not already set."""
        added = set()
        for key, value in parse_env_file(path).items():
            if key not in self.environ:
                self.environ[key] = value
                added.add(key)
        self.env_file = path
        self.env_file_keys = frozenset(added)
        return self.env_file_keys

    def source_of(self, variable: str) -> ValueSource:
        if variable not in self.environ:
            return ValueSource(variable, "default")
        if variable in self.env_file_keys:
            return ValueSource(variable, "env_file", self.env_file)
        return ValueSource(variable, "environment")

    def collect_problems(self) -> None:
        """From now on, report missing or malformed variables through ``take_problems``."""
        self._deferred_problems = {}

    def take_problems(self) -> dict[str, str]:
        """Return the problems collected since ``collect_problems``, by variable name."""
        problems, self._deferred_problems = self._deferred_problems or {}, None
        return problems

    def _where_looked(self) -> str:
        if self.env_file is not None and self.env_file.is_file():
            return f"in the process environment nor in the .env file {self.env_file}"
        return "in the process environment (and there is no .env file)"

    # -- typed getters -------------------------------------------------------------------

    def str(self, name: builtins.str, default: Any = NOTSET, *, dev_default: Any = NOTSET) -> builtins.str:
        return self._get(name, default, dev_default, "", lambda raw: raw)

    def secret(self, name: builtins.str, default: Any = NOTSET, *, dev_default: Any = NOTSET) -> builtins.str:
        """Like ``str``; a ``dev_default`` is also remembered as a known default key."""
        if isinstance(dev_default, builtins.str):
            self.known_defaults.add(dev_default)
        if isinstance(default, builtins.str):
            self.known_defaults.add(default)
        return self.str(name, default, dev_default=dev_default)

    def bool(self, name: builtins.str, default: Any = NOTSET, *, dev_default: Any = NOTSET) -> builtins.bool:
        return self._get(name, default, dev_default, False, parse_bool)

    def int(self, name: builtins.str, default: Any = NOTSET, *, dev_default: Any = NOTSET) -> builtins.int:
        return self._get(name, default, dev_default, 0, builtins.int)

    def list(
        self, name: builtins.str, default: Any = NOTSET, *, dev_default: Any = NOTSET
    ) -> builtins.list[builtins.str]:
        return self._get(name, default, dev_default, [], parse_list)

    def json(self, name: builtins.str, default: Any = NOTSET, *, dev_default: Any = NOTSET) -> Any:
        return self._get(name, default, dev_default, None, json.loads)

    def database_url(
        self,
        name: builtins.str = "DATABASE_URL",
        default: Any = NOTSET,
        *,
        dev_default: Any = NOTSET,
        engine: builtins.str | None = None,
    ) -> dict[builtins.str, Any]:
        return self._get(name, default, dev_default, {}, lambda raw: parse_database_url(raw, engine=engine))

    def cache_url(
        self,
        name: builtins.str = "CACHE_URL",
        default: Any = NOTSET,
        *,
        dev_default: Any = NOTSET,
        backend: builtins.str | None = None,
    ) -> dict[builtins.str, Any]:
        return self._get(name, default, dev_default, {}, lambda raw: parse_cache_url(raw, backend=backend))

    def _get(
        self,
        name: builtins.str,
        default: Any,
        dev_default: Any,
        placeholder: T,
        parse: Callable[[builtins.str], T],
    ) -> T:
        if name in self.environ:
            raw: Any = self.environ[name]
            source = self.source_of(name)
        else:
            if self.mode == "development" and dev_default is not NOTSET:
                raw = dev_default
            elif default is not NOTSET:
                raw = default
            else:
                required = " (it is required in production)" if dev_default is not NOTSET else ""
                return self._problem(
                    name, f"{name} is not set {self._where_looked()}{required}.", placeholder
                )
            source = ValueSource(name, "default")
        self.sources[name] = source
        if not isinstance(raw, builtins.str):
            # A default given as a Python value is used as it is.
            return raw  # type: ignore[no-any-return]
        try:
            return parse(raw)
        except (ValueError, ImproperlyConfigured) as exc:
            return self._problem(name, f"{name}, from {source.describe()}, is invalid: {exc}.", placeholder)

    def _problem(self, name: builtins.str, message: builtins.str, placeholder: T) -> T:
        if self._deferred_problems is None:
            raise ImproperlyConfigured(message)
        self._deferred_problems[name] = message
        return placeholder


def parse_bool(raw: str) -> bool:
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"{raw!r} is not a boolean; use one of true/false, 1/0, yes/no, on/off")


def parse_list(raw: str) -> list[str]:
    return [item.strip() for item in raw.split(",") if item.strip()]
