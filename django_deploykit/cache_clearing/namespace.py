"""Which keys belong to one instance, and which KEY_PREFIX values cannot be cleared safely.

Django's default key function builds ``<KEY_PREFIX>:<VERSION>:<key>``. An instance's
namespace is its prefix followed by ``:``, a version made only of digits, and ``:``, so
prefix ``mysite`` never reaches ``mysite_blue:1:…`` nor ``mysite:canary:1:…``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final

DEFAULT_KEY_FUNCTION: Final = "django.core.cache.backends.base.default_key_func"
# Characters with a meaning in Redis MATCH patterns.
GLOB_CHARACTERS: Final = frozenset("*?[]\\^")
# Characters with a meaning in SQL LIKE, and the escape character used for them.
_LIKE_ESCAPE: Final = "!"
_LIKE_SPECIAL: Final = frozenset("%_" + _LIKE_ESCAPE)


@dataclass(frozen=True)
class Namespace:
    """The keys ``<prefix>:<version>:*``; ``version=None`` means every version."""

    prefix: str
    version: int | None

    def describe(self) -> str:
        version = "<any version>" if self.version is None else str(self.version)
        return f"{self.prefix}:{version}:*"

    def key_regex(self) -> re.Pattern[str]:
        version = r"\d+" if self.version is None else re.escape(str(self.version))
        return re.compile(rf"\A{re.escape(self.prefix)}:{version}:", re.DOTALL)

    def matches(self, key: str) -> bool:
        return self.key_regex().match(key) is not None

    def redis_pattern(self) -> str:
        # A glob cannot say "one or more digits": the server narrows with "<prefix>:[0-9]*"
        # and key_regex() keeps only the exact matches.
        if self.version is None:
            return f"{escape_glob(self.prefix)}:[0-9]*"
        return f"{escape_glob(self.prefix)}:{self.version}:*"

    def sql_like(self) -> str:
        """A LIKE pattern (with ``ESCAPE '!'``) that every key of the namespace matches."""
        version = "" if self.version is None else f"{self.version}:"
        return f"{escape_like(self.prefix)}:{version}%"


LIKE_ESCAPE_CLAUSE: Final = f"ESCAPE '{_LIKE_ESCAPE}'"


def escape_glob(text: str) -> str:
    return "".join(f"\\{char}" if char in GLOB_CHARACTERS else char for char in text)


def escape_like(text: str) -> str:
    return "".join(f"{_LIKE_ESCAPE}{char}" if char in _LIKE_SPECIAL else char for char in text)


def is_default_key_function(key_function: str | Callable[..., Any] | None) -> bool:
    if key_function is None:
        return True
    if callable(key_function):
        return f"{key_function.__module__}.{key_function.__qualname__}" == DEFAULT_KEY_FUNCTION
    return key_function == DEFAULT_KEY_FUNCTION


def slot_of_prefix(prefix: str, slot_names: Iterable[str]) -> str | None:
    """Return the slot whose name ends ``prefix`` after an ``_`` (``mysite_blue`` -> ``blue``)."""
    for slot in slot_names:
        if prefix.endswith(f"_{slot}") and len(prefix) > len(slot) + 1:
            return slot
    return None


def prefix_for_slot(prefix: str, slot: str, slot_names: Iterable[str]) -> str | None:
    """Return ``prefix`` with its slot replaced by ``slot``; ``None`` when it names no slot."""
    current = slot_of_prefix(prefix, slot_names)
    if current is None:
        return None
    return f"{prefix[: -len(current)]}{slot}"


def slot_prefixes(prefixes: Iterable[str], slot_names: Iterable[str]) -> set[str]:
    """Every slot's prefix that can be derived from ``prefixes`` (``mysite_blue`` gives both colours)."""
    names = tuple(slot_names)
    result = set()
    for prefix in prefixes:
        for slot in names:
            other = prefix_for_slot(prefix, slot, names)
            if other is not None:
                result.add(other)
    return result


def namespace_problems(
    prefix: str,
    *,
    key_function: str | Callable[..., Any] | None,
    other_slot_prefixes: Iterable[str] = (),
) -> list[str]:
    """Return why clearing by ``prefix`` could delete someone else's keys (empty when safe)."""
    if not is_default_key_function(key_function):
        name = key_function if isinstance(key_function, str) else repr(key_function)
        return [
            f"it uses the custom KEY_FUNCTION {name}, so its keys need not look like "
            "'<prefix>:<version>:<key>' and no pattern can tell its keys from anyone else's"
        ]
    if prefix == "":
        return [
            "its KEY_PREFIX is empty, so its keys look like ':1:<key>', the same as the keys of every other "
            "Django project on this server that has no prefix"
        ]
    problems = []
    if ":" in prefix:
        problems.append(
            f"its KEY_PREFIX {prefix!r} contains ':', Django's key separator, so another prefix can be "
            "made of it plus a version (e.g. 'mysite' + ':1' + ':…')"
        )
    if any(ord(character) < 33 or ord(character) == 127 for character in prefix):
        problems.append(
            f"its KEY_PREFIX {prefix!r} contains white space or a control character, which Django warns no "
            "cache key should hold (memcached refuses them)"
        )
    globbed = sorted(GLOB_CHARACTERS & set(prefix))
    if globbed:
        problems.append(
            f"its KEY_PREFIX {prefix!r} contains the glob character(s) {' '.join(globbed)}, which a careless "
            "pattern would expand to other prefixes"
        )
    longer = sorted(other for other in other_slot_prefixes if other != prefix and other.startswith(prefix))
    if longer:
        problems.append(
            f"its KEY_PREFIX {prefix!r} is the beginning of another slot's prefix ({', '.join(longer)}), "
            "so it is most likely the shared base prefix (sessions) rather than one instance's"
        )
    return problems
