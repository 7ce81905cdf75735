"""Facts about fields and tables in a model state, and what an AlterField changes in a column."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.state import ModelState

from django_deploykit.migrate_safe.findings import Hazard
from django_deploykit.migrate_safe.phases import DATA_LOSS, LOCK, REWRITE


def field_named(model: ModelState | None, name_lower: str) -> tuple[str, models.Field[Any, Any]] | None:
    """The field ``name_lower`` names in a model state, with its name as written (states keep the
    case the migration used; operations carry the lower-cased name)."""
    if model is None:
        return None
    return next(((n, f) for n, f in model.fields.items() if n.lower() == name_lower), None)


def field_of(model: ModelState | None, name_lower: str) -> models.Field[Any, Any] | None:
    found = field_named(model, name_lower)
    return found[1] if found else None


def has_db_default(f: models.Field[Any, Any]) -> bool:
    return f.db_default is not models.NOT_PROVIDED


def needs_value_on_insert(f: models.Field[Any, Any]) -> bool:
    """True when an INSERT that omits this column fails: NOT NULL, no DB default, not generated."""
    if f.many_to_many or f.null or has_db_default(f) or f.primary_key:
        return False
    return not isinstance(f, models.GeneratedField)


def column_name(name: str, f: models.Field[Any, Any]) -> str:
    bound = f.clone()
    bound.set_attributes_from_name(name)
    return str(bound.column)


def table_name(app_label: str, model: ModelState) -> str:
    return str(model.options.get("db_table") or f"{app_label}_{model.name_lower}")


def has_table(model: ModelState | None) -> bool:
    if model is None:
        return True
    return bool(model.options.get("managed", True)) and not model.options.get("proxy", False)


REWRITE_REASONS = {
    "postgresql": "Changing the column type rewrites the table under an ACCESS EXCLUSIVE lock "
    "(reads and writes wait), unless the new type is binary-compatible.",
    "mysql": "Changing the column type copies the whole table (ALGORITHM=COPY); writes wait until it is done.",
    "sqlite": "SQLite rebuilds the table to change a column.",
    "": "Changing the column type rewrites the table under an exclusive lock.",
}


@dataclass
class ColumnChange:
    """What an AlterField changes in the database, judged from each field's database parameters.

    ``relax`` and ``tighten`` say what the other code version's reads and writes meet; ``index``
    lists index-only changes, which no result depends on; ``unchanged`` names the options that
    differ without reaching the database (Python-side or unknown to the schema editor).
    """

    relax: list[str] = field(default_factory=list)
    tighten: list[str] = field(default_factory=list)
    index: list[str] = field(default_factory=list)
    hazards: list[Hazard] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def index_build_hazard(vendor: str) -> Hazard:
    """The lock of building an index, in the connected backend's terms."""
    if vendor == "postgresql":
        return Hazard(
            LOCK,
            "CREATE INDEX blocks writes to the table until it is built (SHARE lock); "
            "AddIndexConcurrently does not.",
        )
    if vendor == "mysql":
        return Hazard(
            LOCK, "Building the index takes a metadata lock; MariaDB/MySQL build it online (writes go on)."
        )
    if vendor == "sqlite":
        return Hazard(LOCK, "The whole database is locked for writing while the index is built.")
    return Hazard(LOCK, "Building the index may block writes to the table until it is done.")


def _bound(name: str, f: models.Field[Any, Any]) -> models.Field[Any, Any]:
    bound = f.clone()
    bound.set_attributes_from_name(name)
    return bound


def _database_kwargs(f: models.Field[Any, Any]) -> tuple[str, dict[str, Any]]:
    """The field's path and the keyword arguments that can reach the database, as the schema
    editor filters them (``Field.non_db_attrs``, which third-party fields extend)."""
    _, path, _, kwargs = f.deconstruct()
    for attr in f.non_db_attrs:
        kwargs.pop(attr, None)
    if f.remote_field is not None:
        to = kwargs.pop("to", None)
        kwargs["to"] = str(to).lower() if to is not None else None
    return path, kwargs


# A base type (one word, or two for "double precision"/"character varying"), its arguments, and
# modifiers such as "unsigned" or "AUTO_INCREMENT" that must not change for a widening.
_TYPE = re.compile(
    r"^\s*(?P<name>[a-z]+(?: (?:varying|precision))?)\s*(?:\((?P<args>[^)]*)\))?\s*(?P<rest>.*)$"
)
_INTEGER_RANKS = {"smallint": 1, "integer": 2, "int": 2, "bigint": 3}
_UNBOUNDED_TEXT = {"text", "longtext", "mediumtext", "clob"}


def _parse_type(db_type: str) -> tuple[str, list[int], str]:
    match = _TYPE.match(db_type.lower())
    if match is None:
        return db_type.lower(), [], ""
    args = [int(a) for a in re.findall(r"\d+", match["args"] or "")]
    return match["name"].strip(), args, match["rest"].strip()


def _type_change(before: str, after: str) -> tuple[bool, bool, str]:
    """(widens, binary-compatible on PostgreSQL, words) for a column type change."""
    (b_name, b_args, b_rest), (a_name, a_args, a_rest) = _parse_type(before), _parse_type(after)
    words = f"column type {before} -> {after}"
    if b_name in _INTEGER_RANKS and a_name in _INTEGER_RANKS and (b_rest, a_rest) == ("unsigned", ""):
        # MySQL's positive integers: every unsigned value fits the next wider signed type.
        return _INTEGER_RANKS[a_name] > _INTEGER_RANKS[b_name], False, words
    if b_rest != a_rest:
        return False, False, words
    if b_name in ("varchar", "char varying", "character varying") and a_name == b_name:
        if not a_args:
            return True, True, words
        return bool(b_args) and a_args[0] >= b_args[0], True, words
    if b_name in ("varchar", "character varying") and a_name in _UNBOUNDED_TEXT:
        return True, True, words
    if b_name in _INTEGER_RANKS and a_name in _INTEGER_RANKS:
        return _INTEGER_RANKS[a_name] >= _INTEGER_RANKS[b_name], False, words
    if b_name in ("numeric", "decimal") and a_name == b_name and len(b_args) == len(a_args) == 2:
        (b_digits, b_places), (a_digits, a_places) = b_args, a_args
        # Every stored value fits: as many digits before the point, at least as many after it.
        fits = a_places >= b_places and a_digits - a_places >= b_digits - b_places
        return fits, False, words
    return False, False, words


def compare_fields(
    old: models.Field[Any, Any],
    new: models.Field[Any, Any],
    name: str,
    vendor: str,
    connection: BaseDatabaseWrapper,
) -> ColumnChange:
    """What altering column ``name`` from ``old`` to ``new`` changes on ``connection``.

    The schema editor emits SQL only for differences in the column's database parameters (type,
    check, collation), NULL, uniqueness, index, primary key, DB default and foreign key; those are
    compared here. Any other option -- ``choices``, ``allow_unicode``, a JSONField ``encoder``, a
    third-party field's own -- reaches no SQL and changes nothing either code version sees.
    """
    change = ColumnChange()
    old_path, old_kw = _database_kwargs(old)
    new_path, new_kw = _database_kwargs(new)
    _, _, _, all_old = old.deconstruct()
    _, _, _, all_new = new.deconstruct()
    differing = sorted(k for k in set(all_old) | set(all_new) if all_old.get(k) != all_new.get(k))
    if old_path != new_path:
        differing.insert(0, f"{old_path.rsplit('.', 1)[-1]} -> {new_path.rsplit('.', 1)[-1]}")
    if (old_path, old_kw) == (new_path, new_kw):
        change.unchanged = differing
        return change
    bound_old, bound_new = _bound(name, old), _bound(name, new)
    if old.remote_field is None and new.remote_field is None:
        before, after = bound_old.db_parameters(connection), bound_new.db_parameters(connection)
        if before.get("type") != after.get("type"):
            widens, cheap, words = _type_change(str(before.get("type")), str(after.get("type")))
            (change.relax if widens else change.tighten).append(
                f"widens the {words}" if widens else f"changes the {words}"
            )
            if not (cheap and vendor == "postgresql"):
                change.hazards.append(Hazard(REWRITE, REWRITE_REASONS.get(vendor, REWRITE_REASONS[""])))
            if (
                not widens
                and _parse_type(str(before.get("type")))[0] == _parse_type(str(after.get("type")))[0]
            ):
                change.hazards.append(
                    Hazard(DATA_LOSS, f"Narrowing the {words} fails or truncates on longer values.")
                )
        if before.get("check") != after.get("check"):
            if after.get("check") and not before.get("check"):
                change.tighten.append(f"CHECK ({after['check']}) added")
            elif before.get("check") and not after.get("check"):
                change.relax.append(f"CHECK ({before['check']}) removed")
            else:
                change.tighten.append(f"CHECK ({before['check']}) -> ({after['check']})")
        if before.get("collation") != after.get("collation"):
            change.tighten.append(f"collation {before.get('collation')} -> {after.get('collation')}")
    else:
        if old_kw.get("to") != new_kw.get("to"):
            change.tighten.append(f"foreign key target {old_kw.get('to')} -> {new_kw.get('to')}")
        old_constraint = old.remote_field is not None and getattr(old, "db_constraint", False)
        new_constraint = new.remote_field is not None and getattr(new, "db_constraint", False)
        if old_constraint != new_constraint:
            (change.tighten if new_constraint else change.relax).append(
                f"foreign key constraint {'added' if new_constraint else 'removed'}"
            )
    if old.null != new.null:
        (change.relax if new.null else change.tighten).append(
            "NULL allowed" if new.null else "NULL forbidden (NOT NULL)"
        )
        if not new.null:
            change.hazards.append(Hazard(LOCK, "SET NOT NULL scans the whole table under an exclusive lock."))
    if old.primary_key != new.primary_key:
        change.tighten.append("primary key " + ("added" if new.primary_key else "removed"))
    elif old.unique != new.unique:
        (change.tighten if new.unique else change.relax).append(
            "unique added" if new.unique else "unique removed"
        )
        if new.unique:
            change.hazards.append(index_build_hazard(vendor))
    # As the schema editor decides it: a unique column has its index already.
    old_indexed = bool(getattr(old, "db_index", False)) and not old.unique
    new_indexed = bool(getattr(new, "db_index", False)) and not new.unique
    if old_indexed != new_indexed:
        change.index.append("index added" if new_indexed else "index removed")
        if new_indexed:
            change.hazards.append(index_build_hazard(vendor))
    if all_old.get("db_default") != all_new.get("db_default"):
        if has_db_default(new) and not has_db_default(old):
            change.relax.append("DB default added")
        elif has_db_default(old) and not has_db_default(new):
            change.tighten.append("DB default removed (the old code's INSERTs may rely on it)")
        else:
            change.relax.append("DB default changed")
    change.unchanged = differing
    return change


def relaxing_half(
    old: models.Field[Any, Any],
    new: models.Field[Any, Any],
    name: str,
    vendor: str,
    connection: BaseDatabaseWrapper,
) -> models.Field[Any, Any] | None:
    """For an AlterField that both relaxes and tightens through NULL (NULL allowed beside a type
    change, or NOT NULL beside a widening): the field between ``old`` and ``new`` that holds only
    the relaxing change, so the additive phase can apply it and the destructive phase the rest.
    None when no such field splits it cleanly."""
    candidates = []
    if old.null and not new.null:
        candidates.append(new.clone())  # everything new but NOT NULL
    if new.null and not old.null:
        candidates.append(old.clone())  # everything old but NULL allowed
    for candidate in candidates:
        candidate.null = True
        first = compare_fields(old, candidate, name, vendor, connection)
        second = compare_fields(candidate, new, name, vendor, connection)
        if first.relax and not first.tighten and second.tighten and not second.relax:
            return candidate
    return None
