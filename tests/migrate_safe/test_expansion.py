"""Expand/contract: a NOT NULL column with only a Python default is created with that value as
its DB default by the additive phase, so the old code's INSERTs keep working, and the destructive
phase removes that default, so the final schema is plain ``migrate``'s. On real databases."""

from __future__ import annotations

import datetime
import enum
import json
import re
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connections, models
from django.db.migrations import operations as ops
from django.db.migrations.state import ModelState, ProjectState
from django.db.models.functions import Now
from django.utils import timezone

from django_deploykit.exit_codes import ExitCode
from django_deploykit.migrate_safe import expansion
from django_deploykit.migrate_safe.classify import judge
from django_deploykit.migrate_safe.running_code import Judging
from django_deploykit.migrate_safe.schema import BOOKKEEPING_TABLES
from tests.commands import run_command
from tests.migrate_safe.conftest import previous_release, use_graph

GRAPH = "expand_contract"
# What the old code (which knows only name and legacy) inserts.
OLD_INSERT = "INSERT INTO ms_shop_product (name, legacy) VALUES ('pen', NULL)"
# What it would insert once legacy is gone too: still without the new columns.
OLD_INSERT_AFTER = "INSERT INTO ms_shop_product (name) VALUES ('pencil')"


class Colour(enum.Enum):
    RED = "red"


class Size(models.IntegerChoices):
    SMALL = 1


class ExpansionForTests:
    @pytest.mark.parametrize(
        ("f", "db_default", "shown"),
        [
            (models.IntegerField(default=1), 1, "1"),
            (models.CharField(max_length=5, default="x"), "x", "'x'"),
            (models.BooleanField(default=False), False, "False"),
            (models.FloatField(default=1.5), 1.5, "1.5"),
            (
                models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("1.50")),
                Decimal("1.50"),
                "'1.50'",
            ),
            (models.DateField(default=datetime.date(2026, 1, 2)), datetime.date(2026, 1, 2), "'2026-01-02'"),
            (models.TimeField(default=datetime.time(12, 30)), datetime.time(12, 30), "'12:30:00'"),
            (models.CharField(max_length=5, default=Colour.RED), "red", "'red'"),
            (models.IntegerField(default=Size.SMALL), 1, "1"),
            (models.BinaryField(default=b"\x00"), b"\x00", "b'\\x00'"),
        ],
    )
    def test_constants_are_expanded_as_themselves(
        self, f: models.Field[Any, Any], db_default: Any, shown: str
    ) -> None:
        found = expansion.expansion_for(f, "postgresql")
        assert found is not None
        assert found.db_default == db_default
        assert type(found.db_default) is type(db_default)
        assert found.shown == shown

    @pytest.mark.parametrize("now", [timezone.now, datetime.datetime.now, datetime.datetime.utcnow])
    def test_now_callables_of_a_datetime_field_become_the_databases_now(self, now: Any) -> None:
        found = expansion.expansion_for(models.DateTimeField(default=now), "mysql")
        assert found is not None
        assert isinstance(found.db_default, Now)
        assert "NOW()" in found.reason()

    @pytest.mark.parametrize(
        "f",
        [
            models.UUIDField(default=uuid.uuid4),
            models.IntegerField(default=lambda: 1),
            models.JSONField(default="{}"),
            models.JSONField(default=lambda: {"a": 1}),
            models.DateField(default=timezone.now),  # NOW() is a timestamp, not a date
            models.IntegerField(default=1, null=True),
            models.IntegerField(default=1, db_default=2),
            models.IntegerField(default=1, primary_key=True),
            models.IntegerField(),
            models.FloatField(default=float("nan")),
            models.CharField(max_length=5, default=b"x"),
            models.DurationField(default=datetime.timedelta(1)),
        ],
    )
    def test_what_has_no_database_equivalent_is_not_expanded(self, f: models.Field[Any, Any]) -> None:
        assert expansion.expansion_for(f, "postgresql") is None

    def test_bytes_are_not_expanded_on_mysql_where_the_default_comes_out_wrong(self) -> None:
        assert expansion.expansion_for(models.BinaryField(default=b"\x00"), "mysql") is None
        assert expansion.expansion_for(models.BinaryField(default=b"\x00"), "sqlite") is not None

    def test_the_docs_block_runs(self) -> None:
        text = (Path(__file__).parents[2] / "docs" / "migrate_safe.md").read_text(encoding="utf-8")
        (block,) = [b for b in re.findall(r"```python\n(.*?)```", text, re.DOTALL) if "expansion_for" in b]
        exec(compile(block, "docs/migrate_safe.md", "exec"), {})  # noqa: S102 - our own docs

    def test_a_json_default_of_dict_or_list_is_expanded_where_the_database_takes_it(self) -> None:
        assert expansion.expansion_for(models.JSONField(default=dict), "postgresql").shown == "'{}'"  # type: ignore[union-attr]
        assert expansion.expansion_for(models.JSONField(default=list), "sqlite").shown == "'[]'"  # type: ignore[union-attr]
        # MySQL before 8.0.13 takes no JSON default: only a connection can tell the version.
        assert expansion.expansion_for(models.JSONField(default=dict), "mysql") is None

    def test_blank_strings_and_auto_now_are_expanded_with_what_django_fills_rows_with(self) -> None:
        blank = expansion.expansion_for(models.CharField(max_length=5, blank=True), "postgresql")
        stamped = expansion.expansion_for(models.DateTimeField(auto_now=True), "postgresql")
        assert blank is not None
        assert blank.shown == "''"
        assert stamped is not None
        assert "NOW()" in stamped.shown
        assert expansion.expansion_for(models.CharField(max_length=5), "postgresql") is None

    def test_many_to_many_is_not_expanded(self) -> None:
        assert expansion.expansion_for(models.ManyToManyField("auth.User", default=1), "sqlite") is None


def _state() -> ProjectState:
    state = ProjectState()
    state.add_model(ModelState("ms_shop", "Product", [("id", models.BigAutoField(primary_key=True))], {}))
    return state


class RuleTests:
    @pytest.mark.postgresql
    def test_a_python_default_with_a_database_equivalent_is_additive_and_says_what_happens(
        self, postgres_db: str
    ) -> None:
        op = ops.AddField("product", "weight", models.IntegerField(default=7))
        j = judge(op, "ms_shop", _state(), Judging(connections[postgres_db]))
        assert j.phase == "additive"
        assert (
            "the additive phase creates it with DB default 7 so the old code's INSERTs keep working"
            in j.reason
        )
        assert "the destructive phase removes that default" in j.reason

    @pytest.mark.postgresql
    def test_a_default_without_one_is_still_refused_with_the_db_default_fix(self, postgres_db: str) -> None:
        op = ops.AddField("product", "token", models.UUIDField(default=uuid.uuid4))
        j = judge(op, "ms_shop", _state(), Judging(connections[postgres_db]))
        assert j.phase == "refused"
        assert "only a Python default" in j.reason
        assert "db_default" in j.fix

    def test_the_plan_shows_it_in_text_and_json(self, sqlite_db: str) -> None:
        with use_graph(GRAPH):
            previous_release(sqlite_db)
            text, _, _ = run_command("migrate_safe", plan=True, database=sqlite_db)
            data = json.loads(run_command("migrate_safe", plan=True, database=sqlite_db, format="json")[0])
        assert "the additive phase creates it with DB default 'new' so the old code's INSERTs" in text
        weight = next(m for m in data["migrations"] if m["name"] == "0002_product_weight")
        assert weight["phase"] == "additive"
        assert [o["phase"] for o in weight["operations"]] == ["additive"] * 3
        assert "DB default NOW()" in weight["operations"][2]["reason"]
        assert data["contractions"] == []


def _execute(alias: str, sql: str) -> None:
    with connections[alias].cursor() as cursor:
        cursor.execute(sql)


def _rows(alias: str) -> list[tuple[Any, ...]]:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT name, weight, label, added FROM ms_shop_product ORDER BY id")
        return list(cursor.fetchall())


def schema_with_defaults(alias: str) -> dict[str, Any]:
    """Tables, columns with their defaults, and constraints: what ``migrate`` would leave."""
    connection = connections[alias]
    found: dict[str, Any] = {}
    with connection.cursor() as cursor:
        for table in sorted(set(connection.introspection.table_names(cursor)) - BOOKKEEPING_TABLES):
            columns = sorted(
                (c.name, str(c.type_code), bool(c.null_ok), getattr(c, "default", None))
                for c in connection.introspection.get_table_description(cursor, table)
            )
            constraints = sorted(
                (name, tuple(c["columns"] or ()), bool(c["unique"]), tuple(c["foreign_key"] or ()))
                for name, c in connection.introspection.get_constraints(cursor, table).items()
            )
            found[table] = {"columns": columns, "constraints": constraints}
    return found


def expand_then_contract(phased: str, plain: str) -> None:
    """The deploy: additive, the old code inserts, destructive; then plain migrate elsewhere."""
    with use_graph(GRAPH):
        for alias in (phased, plain):
            previous_release(alias)
        out, err, code = run_command("migrate_safe", phase="additive", database=phased)
        assert code == 0, err
        assert "Kept DB default 1 on ms_shop_product.weight for the old code's INSERTs" in out
        records = expansion.pending_contractions(connections[phased])
        assert [(r.label, r.migration) for r in records] == [
            ("ms_shop_product.weight", "0002_product_weight"),
            ("ms_shop_product.label", "0002_product_weight"),
            ("ms_shop_product.added", "0002_product_weight"),
        ]
        assert expansion.live_default(connections[phased], "ms_shop_product", "weight") is not None
        # Between the phases the old code is live: its INSERT omits the new columns and works.
        _execute(phased, OLD_INSERT)
        (row,) = _rows(phased)
        assert row[:3] == ("pen", 1, "new")
        assert row[3] is not None
        assert (
            run_command("migrate_safe", check=True, phase="destructive", database=phased)[2]
            == ExitCode.MIGRATIONS_PENDING
        )
        out, err, code = run_command("migrate_safe", phase="destructive", database=phased)
        assert code == 0, err
        assert expansion.pending_contractions(connections[phased]) == []
        call_command("migrate", database=plain, verbosity=0)
    # After the swap the old code is gone; without the kept defaults its INSERT fails, as it
    # does on the database plain migrate built.
    for alias in (phased, plain):
        for column in ("weight", "label", "added"):
            assert expansion.live_default(connections[alias], "ms_shop_product", column) is None
        with pytest.raises(DatabaseError):
            _execute(alias, OLD_INSERT_AFTER)
    with use_graph(GRAPH):
        assert run_command("migrate_safe", check=True, database=phased)[2] == 0


class PlanSqlTests:
    @pytest.mark.postgresql
    def test_the_additive_plans_sql_keeps_the_default_and_writes_nothing(self, postgres_db: str) -> None:
        with use_graph(GRAPH):
            previous_release(postgres_db)
            additive, _, _ = run_command(
                "migrate_safe", plan=True, sql=True, phase="additive", database=postgres_db
            )
            plain, _, _ = run_command("migrate_safe", plan=True, sql=True, database=postgres_db)
        assert 'ADD COLUMN "weight" integer DEFAULT 1 NOT NULL;' in additive
        assert 'ALTER COLUMN "weight" DROP DEFAULT' not in additive
        assert 'ALTER COLUMN "weight" DROP DEFAULT' in plain
        assert expansion.pending_contractions(connections[postgres_db]) == []


class ExpandContractTests:
    def test_the_deploy_ends_as_migrate(self, database_pair: tuple[str, str]) -> None:
        phased, plain = database_pair
        expand_then_contract(phased, plain)
        schema = schema_with_defaults(phased)
        if connections[phased].vendor == "postgresql":
            # Type code 23 is PostgreSQL's integer: weight is left NOT NULL, without a default.
            assert ("weight", "23", False, None) in schema["ms_shop_product"]["columns"]
        assert schema == schema_with_defaults(plain)


class ContractionTests:
    def test_the_destructive_phase_contracts_with_no_migration_pending(self, sqlite_db: str) -> None:
        with use_graph(GRAPH):
            previous_release(sqlite_db)
            assert (
                run_command("migrate_safe", "ms_shop", "0002", phase="additive", database=sqlite_db)[2] == 0
            )
            # Nothing to apply up to 0002, yet the kept defaults are pending destructive work.
            assert (
                run_command(
                    "migrate_safe", "ms_shop", "0002", check=True, phase="additive", database=sqlite_db
                )[2]
                == 0
            )
            assert (
                run_command(
                    "migrate_safe", "ms_shop", "0002", check=True, phase="destructive", database=sqlite_db
                )[2]
                == ExitCode.MIGRATIONS_PENDING
            )
            text, _, _ = run_command("migrate_safe", "ms_shop", "0002", plan=True, database=sqlite_db)
            assert (
                "removes the DB defaults an additive phase kept for the old code: ms_shop_product.weight"
                in text
            )
            data = json.loads(
                run_command("migrate_safe", "ms_shop", "0002", plan=True, format="json", database=sqlite_db)[
                    0
                ]
            )
            assert data["contractions"][0] == {
                "app_label": "ms_shop",
                "migration": "0002_product_weight",
                "table": "ms_shop_product",
                "column": "weight",
                "default": "1",
            }
            out, err, code = run_command(
                "migrate_safe", "ms_shop", "0002", phase="destructive", database=sqlite_db, format="json"
            )
            assert code == 0, err
            assert json.loads(out)["contracted"] == [
                "ms_shop_product.weight",
                "ms_shop_product.label",
                "ms_shop_product.added",
            ]
            assert (
                run_command(
                    "migrate_safe", "ms_shop", "0002", check=True, phase="destructive", database=sqlite_db
                )[2]
                == 0
            )
        with pytest.raises(DatabaseError):
            _execute(sqlite_db, OLD_INSERT)

    def test_phase_all_and_fake_never_expand(self, sqlite_db: str, sqlite_db_b: str) -> None:
        with use_graph(GRAPH):
            out, _, code = run_command("migrate_safe", phase="all", database=sqlite_db, format="json")
            assert code == 0
            assert json.loads(out)["expanded"] == []
            assert run_command("migrate_safe", "ms_shop", "0001", phase="all", database=sqlite_db_b)[2] == 0
            assert run_command("migrate_safe", "auth", phase="all", database=sqlite_db_b)[2] == 0
            out, err, code = run_command(
                "migrate_safe", phase="additive", fake=True, database=sqlite_db_b, format="json"
            )
            assert code == 0, err
            assert json.loads(out)["applied"] == ["ms_shop.0002_product_weight"]
            assert json.loads(out)["expanded"] == []
        assert expansion.pending_contractions(connections[sqlite_db]) == []
        assert expansion.pending_contractions(connections[sqlite_db_b]) == []

    def test_unapplying_the_migration_drops_its_records(self, sqlite_db: str) -> None:
        with use_graph(GRAPH):
            previous_release(sqlite_db)
            assert (
                run_command("migrate_safe", "ms_shop", "0002", phase="additive", database=sqlite_db)[2] == 0
            )
            assert len(expansion.pending_contractions(connections[sqlite_db])) == 3
            # Unapplying an additive migration is destructive.
            _, err, code = run_command(
                "migrate_safe", "ms_shop", "0001", phase="destructive", database=sqlite_db
            )
            assert code == 0, err
        assert expansion.pending_contractions(connections[sqlite_db]) == []

    def test_a_failed_contraction_says_so_and_the_next_run_resumes(
        self, sqlite_db: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        real = expansion._contract_one
        calls = []

        def fail_second(connection: Any, state: Any, record: expansion.Contraction) -> bool:
            calls.append(record.label)
            if record.column == "label":
                raise DatabaseError("database is locked")
            return real(connection, state, record)

        with use_graph(GRAPH):
            previous_release(sqlite_db)
            assert (
                run_command("migrate_safe", "ms_shop", "0002", phase="additive", database=sqlite_db)[2] == 0
            )
            monkeypatch.setattr(expansion, "_contract_one", fail_second)
            _, err, code = run_command(
                "migrate_safe", "ms_shop", "0002", phase="destructive", database=sqlite_db
            )
            assert code == 1
            assert (
                "Removing the DB default of ms_shop_product.label (DEFAULT 'new', kept by "
                "ms_shop.0002_product_weight) failed: database is locked. It stays recorded (removed "
                "before it in this run: ms_shop_product.weight); run migrate_safe --phase=destructive "
                "again to remove it."
            ) in err
            assert [r.column for r in expansion.pending_contractions(connections[sqlite_db])] == [
                "label",
                "added",
            ]
            monkeypatch.setattr(expansion, "_contract_one", real)
            _, err, code = run_command(
                "migrate_safe", "ms_shop", "0002", phase="destructive", database=sqlite_db
            )
            assert code == 0, err
        assert expansion.pending_contractions(connections[sqlite_db]) == []

    @pytest.mark.mysql
    def test_mariadb_a_record_whose_default_never_came_is_only_dropped(self, mysql_db: str) -> None:
        """On MariaDB the record is written before the DDL: a run that stopped between the two
        leaves a record for a column without the default (or without the column)."""
        with use_graph(GRAPH):
            assert run_command("migrate_safe", "ms_shop", "0001", phase="all", database=mysql_db)[2] == 0
            connection = connections[mysql_db]
            expansion.ensure_table(connection)
            expansion._records(connection).create(
                app="ms_shop",
                name="0002_product_weight",
                model="product",
                field="weight",
                db_table="ms_shop_product",
                db_column="weight",
                default_sql="1",
            )
            expansion._records(connection).create(
                app="ms_shop",
                name="0001_initial",
                model="product",
                field="name",
                db_table="ms_shop_product",
                db_column="name",
                default_sql="'x'",
            )
            out, err, code = run_command(
                "migrate_safe", "ms_shop", "0001", phase="destructive", database=mysql_db
            )
            assert code == 0, err
            assert "Removed the DB default" not in out
        assert expansion.pending_contractions(connection) == []

    @pytest.mark.mysql
    def test_mariadb_a_killed_contraction_is_resumed_from_the_live_schema(self, mysql_db: str) -> None:
        """The default was dropped but the record not deleted (no transactional DDL): the next
        destructive run sees no default left and only deletes the record."""
        with use_graph(GRAPH):
            previous_release(mysql_db)
            assert run_command("migrate_safe", "ms_shop", "0002", phase="additive", database=mysql_db)[2] == 0
            assert expansion.live_default(connections[mysql_db], "ms_shop_product", "weight") is not None
            _execute(mysql_db, "ALTER TABLE ms_shop_product ALTER COLUMN weight DROP DEFAULT")
            out, err, code = run_command(
                "migrate_safe", "ms_shop", "0002", phase="destructive", database=mysql_db
            )
            assert code == 0, err
            assert "Removed the DB default kept for the old code: ms_shop_product.weight" not in out
            assert "Removed the DB default kept for the old code: ms_shop_product.label" in out
        assert expansion.live_default(connections[mysql_db], "ms_shop_product", "label") is None
        assert expansion.pending_contractions(connections[mysql_db]) == []

    @pytest.mark.postgresql
    def test_postgresql_records_in_the_migrations_transaction(
        self, postgres_db: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A migration that fails after its expansion was recorded leaves no record behind."""
        real = ops.AddField.database_forwards

        def fail_on_added(self: Any, app_label: str, editor: Any, *states: Any) -> None:
            if self.name == "added":
                raise DatabaseError("boom")
            real(self, app_label, editor, *states)

        with use_graph(GRAPH):
            assert run_command("migrate_safe", "ms_shop", "0001", phase="all", database=postgres_db)[2] == 0
            monkeypatch.setattr(ops.AddField, "database_forwards", fail_on_added)
            _, err, code = run_command(
                "migrate_safe", "ms_shop", "0002", phase="additive", database=postgres_db, retries=0
            )
            assert code == 1
            assert "was rolled back" in err
        assert expansion.pending_contractions(connections[postgres_db]) == []
        assert expansion.live_default(connections[postgres_db], "ms_shop_product", "weight") is None


def own_default_then_plain(phased: str, plain: str) -> None:
    with use_graph("expand_own_default"):
        for alias in (phased, plain):
            previous_release(alias)
        _, err, code = run_command("migrate_safe", phase="additive", database=phased)
        assert code == 0, err
        assert [r.label for r in expansion.pending_contractions(connections[phased])] == [
            "ms_shop_product.weight"
        ]
        out, err, code = run_command("migrate_safe", phase="destructive", database=phased)
        assert code == 0, err
        assert "Removed the DB default" not in out
        assert expansion.pending_contractions(connections[phased]) == []
        call_command("migrate", database=plain, verbosity=0)
    for alias in (phased, plain):
        _execute(alias, "INSERT INTO ms_shop_product (name) VALUES ('pen')")
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT weight FROM ms_shop_product")
            assert cursor.fetchall() in ([(5,)], ((5,),))
    assert schema_with_defaults(phased) == schema_with_defaults(plain)


class OwnDefaultTests:
    """A later migration in the same additive phase gives the column a db_default of its own:
    the destructive phase leaves it and only deletes the record."""

    def test_the_deploy_ends_as_migrate(self, database_pair: tuple[str, str]) -> None:
        own_default_then_plain(*database_pair)


def alter_then_plain(phased: str, plain: str) -> None:
    with use_graph("expand_alter"):
        for alias in (phased, plain):
            previous_release(alias)
        out, err, code = run_command("migrate_safe", phase="additive", database=phased)
        assert code == 0, err
        assert "Kept DB default 'none' on ms_shop_product.note" in out
        _execute(phased, "INSERT INTO ms_shop_product (name) VALUES ('pen')")
        with connections[phased].cursor() as cursor:
            cursor.execute("SELECT note FROM ms_shop_product")
            assert list(cursor.fetchall()) == [("none",)]
        _, err, code = run_command("migrate_safe", phase="destructive", database=phased)
        assert code == 0, err
        assert expansion.pending_contractions(connections[phased]) == []
        call_command("migrate", database=plain, verbosity=0)
    assert schema_with_defaults(phased) == schema_with_defaults(plain)
    with pytest.raises(DatabaseError):
        _execute(phased, "INSERT INTO ms_shop_product (name) VALUES ('pencil')")


class AlterFieldExpansionTests:
    """An AlterField to NOT NULL that runs in the additive phase is expanded as an AddField is."""

    def test_the_deploy_ends_as_migrate(self, database_pair: tuple[str, str]) -> None:
        alter_then_plain(*database_pair)


class MariaDBFailureTests:
    @pytest.mark.mysql
    def test_a_migration_failing_after_a_record_is_undone_then_deployed_cleanly(
        self, mysql_db: str, mysql_db_b: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """No transactional DDL: operation 2's record is written, its DDL fails. --undo reverts
        operation 1; the stale records do no harm, and the next deploy ends as plain migrate."""
        real = ops.AddField.database_forwards

        def fail_on_label(self: Any, app_label: str, editor: Any, *states: Any) -> None:
            if self.name == "label":
                raise DatabaseError("boom")
            real(self, app_label, editor, *states)

        with use_graph(GRAPH):
            previous_release(mysql_db)
            monkeypatch.setattr(ops.AddField, "database_forwards", fail_on_label)
            _, err, code = run_command("migrate_safe", phase="additive", database=mysql_db)
            assert code == 1
            assert "ms_shop.0002_product_weight: operations 1 applied, 2 failed (boom)" in err
            monkeypatch.setattr(ops.AddField, "database_forwards", real)
            assert run_command("migrate_safe", undo=True, database=mysql_db)[2] == 0
            assert [r.column for r in expansion.pending_contractions(connections[mysql_db])] == [
                "weight",
                "label",
            ]
            _, err, code = run_command("migrate_safe", phase="additive", database=mysql_db)
            assert code == 0, err
            _execute(mysql_db, OLD_INSERT)
            out, err, code = run_command(
                "migrate_safe", phase="destructive", database=mysql_db, format="json"
            )
            assert code == 0, err
            assert json.loads(out)["contracted"] == [
                "ms_shop_product.weight",
                "ms_shop_product.label",
                "ms_shop_product.added",
            ]
            call_command("migrate", database=mysql_db_b, verbosity=0)
        assert expansion.pending_contractions(connections[mysql_db]) == []
        assert schema_with_defaults(mysql_db) == schema_with_defaults(mysql_db_b)
