"""What third-party packages ship beside their migrations: a field with an option of its own,
and an index operation whose database step does nothing (its index is built elsewhere)."""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from django.db import DatabaseError, models
from django.db.migrations import AddIndex, RemoveIndex


class PaletteField(models.CharField):  # type: ignore[type-arg]
    """A CharField with an option the schema editor knows nothing about."""

    def __init__(self, *args: Any, palette: str = "web", **kwargs: Any) -> None:
        self.palette = palette
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["palette"] = self.palette
        return name, path, args, kwargs


class StateOnlyAddIndex(AddIndex):
    """Records the index in the model state; the package builds it concurrently in a later step."""

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        pass


class ConcurrentlyBuiltAddIndex(AddIndex):
    """Builds its index with SQL of its own: what it runs is not AddIndex's CREATE INDEX."""

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        schema_editor.execute("SELECT 1")


class GuardedRemoveIndex(RemoveIndex):
    """Drops the index when it is there, as a package that once created it twice does."""

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        with suppress(DatabaseError):
            super().database_forwards(app_label, schema_editor, from_state, to_state)


class RenderedOnlyField(models.CharField):  # type: ignore[type-arg]
    """A field whose database parameters need the model it is bound to (some packages' fields do)."""

    def db_parameters(self, connection: Any) -> Any:
        return {"type": f"varchar({self.model._meta.db_table})", "check": None}
