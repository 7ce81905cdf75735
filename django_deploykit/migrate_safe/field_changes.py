"""Facts about fields and tables in a model state, and what an AlterField changes in a column."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.migrations.state import ModelState

from django_deploykit.migrate_safe.findings import Hazard
from django_deploykit.migrate_safe.phases import DATA_LOSS, LOCK, REWRITE

# Attributes that change only what Python does, never the column the other code version sees.
PYTHON_ONLY_ATTRIBUTES = frozenset(
    {
        "default",
        "choices",
        "help_text",
        "verbose_name",
        "validators",
        "blank",
        "editable",
        "error_messages",
        "on_delete",
        "related_name",
        "related_query_name",
        "limit_choices_to",
        "auto_now",
        "auto_now_add",
        "upload_to",
        "storage",
        "db_comment",
        "serialize",
        "unique_for_date",
        "unique_for_month",
        "unique_for_year",
        "path",
        "match",
        "recursive",
        "allow_files",
        "allow_folders",
        "protocol",
        "unpack_ipv4",
        "width_field",
        "height_field",
        "swappable",
        "symmetrical",
    }
)

# Column types that hold every value of the type on the left: old code keeps working.
WIDENINGS = frozenset(
    {
        ("SmallIntegerField", "IntegerField"),
        ("SmallIntegerField", "BigIntegerField"),
        ("IntegerField", "BigIntegerField"),
        ("PositiveSmallIntegerField", "PositiveIntegerField"),
        ("PositiveSmallIntegerField", "PositiveBigIntegerField"),
        ("PositiveIntegerField", "PositiveBigIntegerField"),
        ("SmallAutoField", "AutoField"),
        ("SmallAutoField", "BigAutoField"),
        ("AutoField", "BigAutoField"),
        ("CharField", "TextField"),
        ("SlugField", "CharField"),
        ("SlugField", "TextField"),
        ("EmailField", "CharField"),
        ("URLField", "CharField"),
    }
)


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


def _type(f: models.Field[Any, Any]) -> str:
    return str(f.get_internal_type())


REWRITE_REASONS = {
    "postgresql": "Changing the column type rewrites the table under an ACCESS EXCLUSIVE lock "
    "(reads and writes wait), unless the new type is binary-compatible.",
    "mysql": "Changing the column type copies the whole table (ALGORITHM=COPY); writes wait until it is done.",
    "sqlite": "SQLite rebuilds the table to change a column.",
    "": "Changing the column type rewrites the table under an exclusive lock.",
}


def compare_fields(
    old: models.Field[Any, Any], new: models.Field[Any, Any], vendor: str
) -> tuple[list[str], list[str], list[Hazard], list[str]]:
    """(relaxing changes, tightening changes, hazards, Python-only attributes) of an AlterField."""
    relax: list[str] = []
    tighten: list[str] = []
    hazards: list[Hazard] = []
    _, _, _, old_kw = old.deconstruct()
    _, _, _, new_kw = new.deconstruct()
    old_type, new_type = _type(old), _type(new)
    if old_type != new_type:
        if (old_type, new_type) in WIDENINGS:
            relax.append(f"widens {old_type} to {new_type}")
        else:
            tighten.append(f"changes the column type from {old_type} to {new_type}")
        hazards.append(Hazard(REWRITE, REWRITE_REASONS.get(vendor, REWRITE_REASONS[""])))
    python_only = []
    for attr in sorted(set(old_kw) | set(new_kw)):
        before, after = old_kw.get(attr), new_kw.get(attr)
        if attr == "db_column":
            continue  # the caller compared the column names already
        if before == after or attr in PYTHON_ONLY_ATTRIBUTES:
            if before != after:
                python_only.append(attr)
            continue
        if attr == "null":
            (relax if after else tighten).append("NULL allowed" if after else "NULL forbidden (NOT NULL)")
            if not after:
                hazards.append(Hazard(LOCK, "SET NOT NULL scans the whole table under an exclusive lock."))
        elif attr in ("max_length", "max_digits", "decimal_places"):
            if before is None or (after is not None and after > before):
                if attr == "decimal_places":
                    tighten.append(f"{attr} {before} -> {after} changes stored values")
                else:
                    relax.append(f"{attr} {before} -> {after}")
            else:
                tighten.append(f"{attr} {before} -> {after}")
                hazards.append(Hazard(DATA_LOSS, f"Narrowing {attr} fails or truncates on longer values."))
        elif attr == "unique" or attr == "db_index":
            added = bool(after)
            label = "unique" if attr == "unique" else "index"
            if attr == "unique":
                (tighten if added else relax).append(f"{label} {'added' if added else 'removed'}")
            else:
                # An index changes no result; dropping one can still stall the old code's queries.
                (relax if added else tighten).append(f"{label} {'added' if added else 'removed'}")
            if added:
                hazards.append(
                    Hazard(LOCK, "Building the index blocks writes to the table until it is done.")
                )
        elif attr == "db_default":
            (relax if after is not None else tighten).append(
                "DB default added"
                if after is not None
                else "DB default removed (the old code's INSERTs may rely on it)"
            )
        elif attr == "db_constraint":
            added = after in (None, True)
            (tighten if added else relax).append(f"foreign key constraint {'added' if added else 'removed'}")
        else:
            tighten.append(f"changes {attr} ({before!r} -> {after!r})")
    return relax, tighten, hazards, python_only
