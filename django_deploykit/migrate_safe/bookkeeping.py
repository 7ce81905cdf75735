"""The package's own tables in the project's database: the migration journal and the record of expansions.

Each is a model in a registry of its own, as Django's ``MigrationRecorder`` keeps ``django_migrations``: no
app owns it, no migration creates it, and ``makemigrations`` never sees it. The table is created on first
use, outside any migration (MySQL commits DDL implicitly, so it could not take part in one anyway).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any

from django.apps.registry import Apps
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper


class BookkeepingTable:
    """One table: its name, the fields of its rows (built on first use, once the apps are ready) and how a
    row reads in a message."""

    def __init__(
        self,
        table: str,
        app_label: str,
        fields: Callable[[], dict[str, models.Field[Any, Any]]],
        describe: Callable[[Any], str],
    ) -> None:
        self.table = table
        self.app_label = app_label
        self._fields = fields
        self._describe = describe

    @cached_property
    def model(self) -> type[models.Model]:
        meta = type("Meta", (), {"apps": Apps(), "app_label": self.app_label, "db_table": self.table})
        attributes: dict[str, Any] = {
            "__module__": __name__,
            "Meta": meta,
            "__str__": lambda row: self._describe(row),
            **self._fields(),
        }
        return type(self.app_label.title().replace("_", ""), (models.Model,), attributes)

    def exists(self, connection: BaseDatabaseWrapper) -> bool:
        with connection.cursor() as cursor:
            return self.table in connection.introspection.table_names(cursor)

    def ensure(self, connection: BaseDatabaseWrapper) -> None:
        """Create the table unless it is there."""
        if self.exists(connection):
            return
        with connection.schema_editor() as editor:
            editor.create_model(self.model)

    def rows(self, connection: BaseDatabaseWrapper) -> Any:
        """The rows in ``connection``'s database (a manager: filter, create, delete)."""
        return self.model._default_manager.using(connection.alias)
