"""The reviewed-phases file: phases a person decided for migrations no rule can judge.

``migrate_safe --review`` writes every undecided migration of the pending plan (RunPython,
RunSQL, custom operations) into a TOML file checked in with the project; the reviewer fills in
a phase and a reason; ``verdicts`` reads it as an override layer. Each entry carries a digest
of the migration's source, so a migration edited after its review is undecided again.

The file is read with ``tomllib`` and written by hand (no TOML writer is a dependency); every
string is escaped here, and the writer's output is read back by the same parser in the tests.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import os
import re
import sys
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from django.conf import settings
from django.db.migrations import Migration
from django.db.migrations import operations as ops

from django_deploykit.conf import conf
from django_deploykit.migrate_safe.phases import MARKABLE_PHASES

KEYS = ("phase", "reason", "digest", "reviewed_on")
DIGEST_PREFIX = "sha256:"
# Long SQL or docstrings are cut in the comments: the reviewer opens the file they point to.
MAX_COMMENT_LINES = 12


class ReviewFileError(ValueError):
    """The reviewed-phases file cannot be used; the message names the file and the entry or line."""


@dataclass(frozen=True)
class Review:
    label: str
    phase: str
    reason: str
    digest: str
    reviewed_on: str = ""
    line: int = 0

    @property
    def decided(self) -> bool:
        """False for an entry --review wrote that nobody has filled in yet."""
        return bool(self.phase)


def review_file() -> Path:
    """The file of DEPLOYKIT_REVIEWED_MIGRATIONS; a relative path is taken from BASE_DIR, which
    is where manage.py lives in a standard project (the current directory without BASE_DIR)."""
    base = getattr(settings, "BASE_DIR", None)
    return _resolve(str(conf.REVIEWED_MIGRATIONS), str(base) if base else None, os.getcwd())


@functools.lru_cache(maxsize=16)
def _resolve(configured: str, base: str | None, cwd: str) -> Path:
    # Cached: a plan asks once per migration, and building paths costs more than the stat.
    path = Path(configured)
    if path.is_absolute():
        return path
    return Path(base or cwd) / path


# ---------------------------------------------------------------------------------------------
# Reading


def parse_reviews(text: str, path: Path) -> dict[str, Review]:
    """Every entry of the file's text, checked; raises ReviewFileError naming the entry."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ReviewFileError(
            f"{path} is not valid TOML: {exc}. Fix it or run migrate_safe --review again."
        ) from exc
    lines = text.splitlines()
    reviews = {}
    for label, entry in data.items():
        line = _line_of(lines, label)
        # An entry written as an inline table has no header line to point at.
        where = f'{path}, entry ["{label}"]' + (f" (line {line})" if line else "")
        if (
            "." not in label
            and isinstance(entry, dict)
            and entry
            and all(isinstance(v, dict) for v in entry.values())
        ):
            # [shop.0002_x] without quotes: TOML reads the dot as a table inside a table.
            name = f"{label}.{next(iter(entry))}"
            line = _line_of(lines, name, quoted=False)
            raise ReviewFileError(
                f'{path}, entry [{name}] (line {line}): write the name in quotes, ["{name}"]; without them '
                "TOML reads the dot as a table inside a table."
            )
        if label.count(".") != 1 or not all(label.split(".")):
            raise ReviewFileError(f"{where}: the name is not of the form 'app_label.migration_name'.")
        if not isinstance(entry, dict):
            raise ReviewFileError(
                f'{where}: write it as a table, ["{label}"], with phase, reason and digest.'
            )
        unknown = sorted(set(entry) - set(KEYS))
        if unknown:
            raise ReviewFileError(
                f"{where}: unknown key {', '.join(repr(k) for k in unknown)}; an entry has only "
                + ", ".join(KEYS)
                + "."
            )
        for key, value in entry.items():
            if not isinstance(value, str):
                raise ReviewFileError(f"{where}: {key} must be a string in double quotes, not {value!r}.")
        phase, reason = entry.get("phase", ""), entry.get("reason", "").strip()
        if phase and phase not in MARKABLE_PHASES:
            raise ReviewFileError(f"{where}: phase {phase!r} is not 'additive' or 'destructive'.")
        if phase and not reason:
            raise ReviewFileError(
                f"{where}: the reason is empty; say why {phase} is safe for this migration."
            )
        if reason and not phase:
            raise ReviewFileError(
                f"{where}: it has a reason but no phase; set phase to 'additive' or 'destructive'."
            )
        digest = entry.get("digest", "")
        if not digest.startswith(DIGEST_PREFIX):
            raise ReviewFileError(
                f"{where}: the digest is missing or not 'sha256:...'; run migrate_safe --review to record it."
            )
        reviews[label] = Review(label, phase, reason, digest, entry.get("reviewed_on", ""), line)
    return reviews


def _line_of(lines: list[str], label: str, quoted: bool = True) -> int:
    name = re.escape(label) if quoted else r"\s*\.\s*".join(re.escape(p) for p in label.split("."))
    header = re.compile(r"^\s*\[\s*[\"']?" + name + r"[\"']?\s*\]")
    for number, line in enumerate(lines, start=1):
        if header.match(line):
            return number
    return 0


def read_reviews(path: Path) -> dict[str, Review]:
    """The entries of ``path``; none when it does not exist."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ReviewFileError(f"{path} cannot be read: {exc.strerror}.") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReviewFileError(f"{path} is not UTF-8 text (byte {exc.start}).") from exc
    return parse_reviews(text, path)


_cache: dict[Path, tuple[tuple[int, int, int], dict[str, Review]]] = {}


def current_reviews() -> tuple[Path, dict[str, Review]]:
    """The configured file and its entries, parsed once per change of the file: a plan asks
    for every migration, and a project may have thousands."""
    path = review_file()
    try:
        st = path.stat()
    except FileNotFoundError:
        _cache.pop(path, None)
        return path, {}
    except OSError as exc:
        raise ReviewFileError(f"{path} cannot be read: {exc.strerror}.") from exc
    signature = (st.st_mtime_ns, st.st_size, st.st_ino)
    cached = _cache.get(path)
    if cached is not None and cached[0] == signature:
        return path, cached[1]
    reviews = read_reviews(path)
    _cache[path] = (signature, reviews)
    return path, reviews


# ---------------------------------------------------------------------------------------------
# Digests and what the reviewer is shown


def _source_file(obj: Any) -> Path | None:
    try:
        name = inspect.getsourcefile(obj)
    except TypeError:
        return None
    return Path(name) if name else None


def _module_of(migration: Migration) -> ModuleType | None:
    return sys.modules.get(type(migration).__module__)


def _code_objects(migration: Migration) -> list[Any]:
    """What an undecided operation runs that may live outside the migration's own file."""
    found: list[Any] = []
    for op in migration.operations:
        if isinstance(op, ops.RunPython):
            found += [
                fn for fn in (op.code, op.reverse_code) if fn is not None and fn is not ops.RunPython.noop
            ]
        elif not type(op).__module__.startswith("django."):
            found.append(type(op))
    return found


def migration_digest(migration: Migration) -> str | None:
    """sha256 of the migration module's source, plus the source files of the RunPython functions
    and custom operation classes it uses from other modules; None without a source file.

    The file bytes, not the deconstructed operations: a RunPython function deconstructs to a
    reference, so editing its body would not change a digest of the operations. Line endings are
    normalised so a checkout with CRLF has the same digest. A cosmetic edit asks for a new
    review: the safe direction.
    """
    module = _module_of(migration)
    own = _source_file(module) if module is not None else None
    if own is None:
        return None
    files = [own]
    for obj in _code_objects(migration):
        path = _source_file(obj)
        if path is not None and path not in files:
            files.append(path)
    digest = hashlib.sha256()
    for path in [own, *sorted(files[1:])]:
        try:
            digest.update(path.read_bytes().replace(b"\r\n", b"\n"))
        except OSError:
            return None
        digest.update(b"\0")
    return DIGEST_PREFIX + digest.hexdigest()


def _shown_path(path: Path) -> str:
    base = getattr(settings, "BASE_DIR", None)
    for root in ([Path(base)] if base else []) + [Path.cwd()]:
        try:
            return str(path.resolve().relative_to(Path(root).resolve()))
        except ValueError:
            continue
    return str(path)


def _location(obj: Any) -> str:
    path = _source_file(obj)
    if path is None:
        return "(no source file)"
    code = getattr(obj, "__code__", None)
    if code is not None:
        line = code.co_firstlineno
    else:
        try:
            line = inspect.getsourcelines(obj)[1]
        except (OSError, TypeError):
            line = 0
    return f"{_shown_path(path)}:{line}" if line else _shown_path(path)


def _doc(obj: Any) -> str:
    # The object's own docstring: inspect.getdoc would show Migration's or Operation's.
    doc = obj.__dict__.get("__doc__") if isinstance(obj, type) else getattr(obj, "__doc__", None)
    return inspect.cleandoc(doc) if isinstance(doc, str) and doc.strip() else ""


@dataclass
class CodeDetail:
    """One thing an undecided operation runs: a function, SQL, or a custom operation's class."""

    operation: int
    kind: str
    name: str
    location: str = ""
    docstring: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "kind": self.kind,
            "name": self.name,
            "location": self.location,
            "docstring": self.docstring,
        }


@dataclass
class MigrationDetails:
    """What a reviewer needs to decide a migration: where it is, what it says, what it runs."""

    location: str
    docstring: str
    code: list[CodeDetail] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "location": self.location,
            "docstring": self.docstring,
            "code": [c.as_dict() for c in self.code],
        }


def _sql_text(sql: Any) -> str:
    if isinstance(sql, str):
        return sql.strip()
    if isinstance(sql, list | tuple):
        return "\n".join(_sql_text(s[0] if isinstance(s, list | tuple) else s) for s in sql)
    return repr(sql)


def migration_details(migration: Migration) -> MigrationDetails:
    cls = type(migration)
    module = _module_of(migration)
    docstring = _doc(cls) or (_doc(module) if module is not None else "")
    details = MigrationDetails(_location(cls), docstring)
    for index, op in enumerate(migration.operations, start=1):
        if isinstance(op, ops.RunPython):
            for role, fn in (("code", op.code), ("reverse_code", op.reverse_code)):
                if fn is None or fn is ops.RunPython.noop:
                    continue
                name = getattr(fn, "__qualname__", repr(fn))
                details.code.append(CodeDetail(index, f"RunPython {role}", name, _location(fn), _doc(fn)))
        elif isinstance(op, ops.RunSQL):
            if op.sql != ops.RunSQL.noop:
                details.code.append(CodeDetail(index, "RunSQL sql", _sql_text(op.sql)))
            if op.reverse_sql not in (None, ops.RunSQL.noop):
                details.code.append(CodeDetail(index, "RunSQL reverse_sql", _sql_text(op.reverse_sql)))
        elif not type(op).__module__.startswith("django."):
            op_cls = type(op)
            details.code.append(
                CodeDetail(
                    index,
                    "operation",
                    f"{op_cls.__module__}.{op_cls.__qualname__}",
                    _location(op_cls),
                    _doc(op_cls),
                )
            )
    return details


# ---------------------------------------------------------------------------------------------
# Writing


HEADER = """\
# Reviewed migration phases for django-deploykit's migrate_safe.
#
# migrate_safe cannot judge what RunPython, RunSQL or a custom operation does. For each
# migration below, read its code, then set phase ("additive": safe while the old code still
# runs, applied before the swap; "destructive": applied after it) and say why in reason.
# An entry left with an empty phase and reason keeps the migration out of both phases.
# digest is the sha256 of the migration's source: when the migration changes, the entry is
# ignored until it is reviewed again. Written by 'manage.py migrate_safe --review', which keeps
# every decision whose digest still matches; the comments are rewritten each time.
"""


@dataclass
class Entry:
    label: str
    phase: str = ""
    reason: str = ""
    digest: str = ""
    reviewed_on: str = ""
    comments: list[str] = field(default_factory=list)


@dataclass
class ReviewUpdate:
    """What --review did: the new text, and which migrations it added, reopened or kept."""

    text: str
    added: list[str] = field(default_factory=list)
    reopened: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    unreviewable: list[str] = field(default_factory=list)


def toml_string(value: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = ['"']
    for ch in value:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _comment(text: str) -> str:
    # A comment ends at the line's end and may hold no control character but a tab.
    cleaned = "".join(ch if ch == "\t" or (ord(ch) >= 0x20 and ord(ch) != 0x7F) else "?" for ch in text)
    return f"# {cleaned}".rstrip()


def _block(title: str, text: str, indent: str = "  ") -> list[str]:
    lines = text.splitlines() or [""]
    shown = lines[:MAX_COMMENT_LINES]
    if len(lines) > MAX_COMMENT_LINES:
        shown.append(f"... ({len(lines) - MAX_COMMENT_LINES} more lines)")
    return [title] + [indent + line for line in shown]


def describe_for_review(
    migration: Migration, operations: Iterable[tuple[int, str, str]] | None = None
) -> list[str]:
    """The comment lines of an entry: operations, code locations, docstrings, SQL."""
    details = migration_details(migration)
    lines = [f"{details.location} (class Migration)"]
    if details.docstring:
        lines += _block("docstring:", details.docstring)
    if operations is None:
        operations = [(i, op.describe(), "") for i, op in enumerate(migration.operations, start=1)]
    lines.append("operations:")
    for index, description, verdict in operations:
        lines.append(f"  {index}. {description}" + (f": {verdict}" if verdict else ""))
        for code in details.code:
            if code.operation != index:
                continue
            if code.kind.startswith("RunSQL"):
                lines += _block(f"     {code.kind}:", code.name, indent="       ")
                continue
            lines.append(f"     {code.kind} {code.name} at {code.location}")
            if code.docstring:
                lines += _block("     docstring:", code.docstring, indent="       ")
    return lines


def render(entries: Iterable[Entry]) -> str:
    parts = [HEADER]
    for entry in sorted(entries, key=lambda e: tuple(e.label.split(".", 1))):
        lines = ["", f"[{toml_string(entry.label)}]"]
        lines += [_comment(c) for c in entry.comments]
        lines.append(f"phase = {toml_string(entry.phase)}")
        lines.append(f"reason = {toml_string(entry.reason)}")
        lines.append(f"digest = {toml_string(entry.digest)}")
        lines.append(f"reviewed_on = {toml_string(entry.reviewed_on)}")
        parts.append("\n".join(lines) + "\n")
    return "".join(parts)


@dataclass
class Undecided:
    """A migration of the pending plan that no rule or override decides."""

    migration: Migration
    operations: list[tuple[int, str, str]]


def update_reviews(
    existing: dict[str, Review],
    undecided: list[Undecided],
    find: Callable[[str], Migration | None],
    today: str,
) -> ReviewUpdate:
    """The file with every undecided migration added; decisions whose digest still matches kept.

    A decided entry whose migration changed is reopened: its phase and reason go back to empty,
    and the old decision is kept as a comment for the reviewer to weigh.
    """
    entries: dict[str, Entry] = {}
    update = ReviewUpdate("")
    for label, review in existing.items():
        migration = find(label)
        entry = Entry(label, review.phase, review.reason, review.digest, review.reviewed_on)
        if migration is None:
            entry.comments = ["Not found among the project's migrations (removed or squashed?)."]
        else:
            entry.comments = describe_for_review(migration)
        entries[label] = entry
    for item in undecided:
        label = f"{item.migration.app_label}.{item.migration.name}"
        digest = migration_digest(item.migration)
        comments = describe_for_review(item.migration, item.operations)
        if digest is None:
            # Without source there is nothing to read, nor a digest to notice a change by.
            update.unreviewable.append(label)
            continue
        found = entries.get(label)
        if found is None:
            entries[label] = Entry(label, digest=digest, reviewed_on=today, comments=comments)
            update.added.append(label)
            continue
        if found.digest != digest:
            previous = (
                [
                    f"Reviewed on {found.reviewed_on or '?'} as {found.phase}: {found.reason}",
                    "The migration changed since; decide again.",
                ]
                if found.phase
                else []
            )
            entries[label] = Entry(label, digest=digest, reviewed_on=today, comments=previous + comments)
            (update.reopened if found.phase else update.waiting).append(label)
            continue
        found.comments = comments
        (update.kept if found.phase else update.waiting).append(label)
    update.text = render(entries.values())
    return update
