"""Every classification rule, judged on the real migrations of the 'rules' graph."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connections, models
from django.db.migrations import operations as ops
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ModelState, ProjectState

from django_deploykit.migrate_safe.classify import Judging, OperationVerdict, classify_operations
from django_deploykit.migrate_safe.planning import PhasePlan, pending_for_leaves
from django_deploykit.migrate_safe.verdicts import MigrationVerdict
from tests.commands import run_command
from tests.migrate_safe.conftest import Judged, judged_one_by_one, previous_release, use_graph


@pytest.fixture
def rules_plan(sqlite_db: str) -> Judged:
    return judged_once("rules", sqlite_db)


# Verdicts depend on the graph and the backend, not on the database: judged once per module run
# (each judgement records and plans every migration of the graph in turn).
_JUDGED: dict[tuple[str, str], Judged] = {}


def judged_once(graph: str, alias: str) -> Judged:
    key = (graph, connections[alias].vendor)
    if key not in _JUDGED:
        with use_graph(graph):
            _JUDGED[key] = judged_one_by_one(alias)
    return _JUDGED[key]


def verdict(plan: Judged | PhasePlan, name: str) -> MigrationVerdict:
    return next(v for v in plan.migrations if v.label == f"ms_shop.{name}")


# (migration, migration phase, first operation's phase, words of its reason, hazard kinds)
RULES = [
    ("0001_initial", "additive", "additive", "new table", []),
    ("0002_add_nullable", "additive", "additive", "nullable column", []),
    ("0003_add_db_default", "additive", "additive", "DB default", []),
    ("0004_add_not_null_python_default", "additive", "additive", "creates it with DB default 1", []),
    ("0005_remove_nullable", "destructive", "destructive", "old code still reads", ["data-loss"]),
    ("0006_remove_not_null", "destructive", "destructive", "first makes it nullable", ["data-loss"]),
    ("0007_widen", "additive", "additive", "varchar(20) -> varchar(40)", ["rewrite"]),
    ("0008_tighten_null", "destructive", "destructive", "NOT NULL", ["lock"]),
    ("0009_change_type", "destructive", "destructive", "text -> integer", ["rewrite"]),
    ("0010_python_only", "additive", "any", "help_text", []),
    ("0011_relax_and_tighten", "destructive", "destructive", "applies the relaxing half first", ["lock"]),
    ("0012_add_index", "additive", "any", "index changes no result", ["lock"]),
    ("0013_remove_index", "additive", "any", "Dropping an index changes no result", []),
    ("0014_add_constraint", "destructive", "destructive", "tightens what may be written", ["lock"]),
    ("0015_remove_constraint", "additive", "additive", "relaxes what may be written", []),
    ("0016_run_sql", "unclassified", "unknown", "Raw SQL", []),
    ("0017_run_python", "unclassified", "unknown", "Python code", ["irreversible"]),
    ("0018_separate_database_and_state", "additive", "additive", "database operations", []),
    ("0019_delete_model", "destructive", "destructive", "Drops a table", ["data-loss"]),
    ("0020_create_model", "additive", "additive", "new table", []),
    ("0022_unique_together", "destructive", "destructive", "duplicates", ["lock"]),
    ("0023_noop_python", "additive", "any", "noop", []),
    ("0024_rename_field", "unclassified", "refused", "Renames column name to title", []),
    ("0025_rename_model", "unclassified", "refused", "Renames the table", []),
]


class ClassificationRulesTests:
    @pytest.mark.parametrize(("name", "phase", "op_phase", "words", "hazards"), RULES)
    def test_rule(
        self, rules_plan: Judged, name: str, phase: str, op_phase: str, words: str, hazards: list[str]
    ) -> None:
        v = verdict(rules_plan, name)
        op = v.operations[0]
        assert (v.phase, v.source, op.phase) == (phase, "rules", op_phase)
        assert words in op.reason
        assert [h.kind for h in op.hazards] == hazards

    def test_not_null_add_field_with_a_constant_python_default_is_expanded(self, rules_plan: Judged) -> None:
        op = verdict(rules_plan, "0004_add_not_null_python_default").operations[0]
        assert "the destructive phase removes that default" in op.reason
        assert op.fix == ""

    def test_removing_a_not_null_column_is_prepared_by_the_additive_phase(self, rules_plan: Judged) -> None:
        op = verdict(rules_plan, "0006_remove_not_null").operations[0]
        assert "so the new code's INSERTs work until it is dropped" in op.reason
        assert op.fix == ""

    def test_renames_spell_out_the_expand_contract_steps(self, rules_plan: Judged) -> None:
        field_fix = verdict(rules_plan, "0024_rename_field").operations[0].fix
        model_fix = verdict(rules_plan, "0025_rename_model").operations[0].fix
        assert "(1) additive: add 'title'" in field_fix
        assert "(4) destructive: remove 'name'" in field_fix
        assert "db_table" in model_fix

    def test_mixed_migration_names_its_operations_and_the_split(self, rules_plan: Judged) -> None:
        v = verdict(rules_plan, "0021_mixed")
        assert v.phase == "mixed"
        assert v.split == {"additive": [1], "destructive": [2]}
        assert "operation 1 is additive, operation 2 is destructive" in v.reason

    def test_a_table_created_in_the_same_migration_takes_any_shape_additively(self, sqlite_db: str) -> None:
        with use_graph("expand"):
            plan = pending_for_leaves(connections[sqlite_db])
        stock = next(v for v in plan.migrations if v.label == "ms_stock.0001_initial")
        assert stock.phase == "additive"
        assert stock.operations[1].reason.startswith("Shapes a table created earlier in this migration")

    def test_postgresql_names_the_non_concurrent_index_hazard(self, postgres_db: str) -> None:
        with use_graph("rules"):
            plan = judged_one_by_one(postgres_db)
        op = verdict(plan, "0012_add_index").operations[0]
        assert "AddIndexConcurrently" in op.hazards[0].reason

    def test_postgresql_names_the_lock_each_operation_takes(self, more_rules_plan: Judged) -> None:
        locks = {
            v.name: v.operations[-1].lock for v in more_rules_plan.migrations if v.app_label == "ms_shop"
        }
        assert locks["0003_narrow"] == "ACCESS EXCLUSIVE (reads and writes wait)"
        assert locks["0020_add_index_concurrently"] == "SHARE UPDATE EXCLUSIVE (reads and writes go on)"
        assert locks["0023_alter_model_options"] == "none"

    def test_plan_shows_locks_at_verbosity_2(self, postgres_db: str) -> None:
        with use_graph("expand"):
            previous_release(postgres_db)
            quiet, _, _ = run_command("migrate_safe", plan=True, database=postgres_db)
            detailed, _, _ = run_command("migrate_safe", plan=True, database=postgres_db, verbosity=2)
        assert "       lock: " not in quiet
        assert "       lock: SHARE (writes wait)" in detailed
        assert "       lock: none on existing tables" in detailed

    def test_type_change_hazards_name_each_backend(self, rules_plan: Judged, mysql_db: str) -> None:
        assert (
            "SQLite rebuilds the table"
            in verdict(rules_plan, "0009_change_type").operations[0].hazards[0].reason
        )
        with use_graph("rules"):
            plan = judged_one_by_one(mysql_db)
        assert "ALGORITHM=COPY" in verdict(plan, "0009_change_type").operations[0].hazards[0].reason

    def test_mariadb_flags_multi_operation_migrations_as_non_transactional(self, mysql_db: str) -> None:
        with use_graph("expand"):
            plan = pending_for_leaves(connections[mysql_db])
        colour = next(v for v in plan.migrations if v.label == "ms_shop.0002_product_colour")
        assert [h.kind for h in colour.hazards] == ["non-transactional"]


@pytest.fixture
def more_rules_plan(postgres_db: str) -> Judged:
    return judged_once("rules_more", postgres_db)


MORE_RULES = [
    ("0001_initial", "additive", "any", "proxy or unmanaged model changes no table", []),
    ("0002_widen_integer", "additive", "additive", "widens the column type integer -> bigint", ["rewrite"]),
    ("0003_narrow", "destructive", "destructive", "varchar(50) -> varchar(30)", ["data-loss"]),
    ("0004_add_db_default", "additive", "additive", "DB default added", []),
    ("0005_remove_db_default", "destructive", "destructive", "DB default removed", []),
    ("0006_unique_added", "destructive", "destructive", "unique added", ["lock"]),
    ("0007_unique_removed", "additive", "additive", "unique removed", []),
    ("0008_index_added", "additive", "any", "index added", ["lock"]),
    ("0009_index_removed", "additive", "any", "index removed", []),
    ("0010_remove_with_db_default", "destructive", "destructive", "old code still reads", ["data-loss"]),
    ("0011_add_foreign_key", "additive", "additive", "nullable column", ["lock", "lock"]),
    ("0012_pin_column", "additive", "any", "database definition is unchanged", []),
    ("0013_rename_field_keeps_column", "additive", "any", "keeps its name (db_column)", []),
    ("0014_pin_table", "additive", "any", "table name does not change", []),
    ("0015_rename_model_keeps_table", "additive", "any", "keeps its name (db_table)", []),
    ("0016_move_table", "unclassified", "refused", "Renames table ms_shop_product to shop_products", []),
    ("0017_unique_together_added", "destructive", "destructive", "may write duplicates", ["lock"]),
    ("0018_unique_together_removed", "additive", "additive", "old code keeps working", []),
    ("0019_unmanaged_delete", "additive", "any", "unmanaged", []),
    ("0020_add_index_concurrently", "additive", "any", "index changes no result", []),
    ("0021_remove_index_concurrently", "additive", "any", "Dropping an index", []),
    ("0022_add_constraint_not_valid", "destructive", "destructive", "tightens what may be written", []),
    ("0023_alter_model_options", "additive", "any", "model state", []),
]


class MoreClassificationRulesTests:
    """Relaxing and tightening AlterFields, names kept by db_column/db_table, unmanaged models,
    and PostgreSQL's concurrent and NOT VALID operations (judged on PostgreSQL)."""

    @pytest.mark.postgresql
    @pytest.mark.parametrize(("name", "phase", "op_phase", "words", "hazards"), MORE_RULES)
    def test_rule(
        self, more_rules_plan: Judged, name: str, phase: str, op_phase: str, words: str, hazards: list[str]
    ) -> None:
        v = verdict(more_rules_plan, name)
        op = v.operations[-1]
        assert (v.phase, op.phase) == (phase, op_phase)
        assert words in op.reason
        assert [h.kind for h in op.hazards] == hazards


class SeparateDatabaseAndStateTests:
    """The classifier judges a SeparateDatabaseAndState by the database operations it holds."""

    @staticmethod
    def judged(op: Operation, alias: str) -> OperationVerdict:
        state = ProjectState()
        state.add_model(
            ModelState(
                "ms_shop",
                "Item",
                [("id", models.AutoField(primary_key=True)), ("old", models.IntegerField(null=True))],
            )
        )
        (verdict,) = classify_operations([op], "ms_shop", state, Judging(connections[alias]))
        return verdict

    def test_state_only(self, sqlite_db: str) -> None:
        op = ops.SeparateDatabaseAndState(state_operations=[ops.RemoveField("item", "old")])
        assert self.judged(op, sqlite_db).phase == "any"

    def test_one_phase_is_its_phase(self, sqlite_db: str) -> None:
        op = ops.SeparateDatabaseAndState(
            database_operations=[ops.AddField("item", "new", models.IntegerField(null=True))]
        )
        v = self.judged(op, sqlite_db)
        assert (v.phase, "Judged by its database operations" in v.reason) == ("additive", True)

    def test_both_phases_are_refused(self, sqlite_db: str) -> None:
        op = ops.SeparateDatabaseAndState(
            database_operations=[
                ops.AddField("item", "new", models.IntegerField(null=True)),
                ops.RemoveField("item", "old"),
            ]
        )
        v = self.judged(op, sqlite_db)
        assert v.phase == "refused"
        assert "need different phases" in v.reason
        assert [h.kind for h in v.hazards] == ["data-loss"]

    def test_a_subclass_is_judged_by_what_it_holds(self, sqlite_db: str) -> None:
        class Guarded(ops.SeparateDatabaseAndState):
            def database_forwards(self, *args: Any, **kwargs: Any) -> None:
                super().database_forwards(*args, **kwargs)

        op = Guarded(database_operations=[ops.RemoveField("item", "old")])
        assert self.judged(op, sqlite_db).phase == "destructive"
