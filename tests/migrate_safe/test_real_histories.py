"""Verdicts on the shapes real packages' histories take, judged against the code that runs.

The 'histories' graph holds what third-party migrations do (a CharField becoming a TextField,
options the schema editor ignores, unique_together turned into a partial UniqueConstraint, an
index replaced, a package's state-only index operation, objects created and changed within one
pending plan, a new app with a data migration). The database starts at ms_shop.0001_initial, as
a project that installed the package's previous release; everything after it is one pending plan.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connections, models
from django.db.migrations.operations import AlterField
from django.db.migrations.state import ModelState, ProjectState

from django_deploykit.exit_codes import ExitCode
from django_deploykit.migrate_safe.classify import judge
from django_deploykit.migrate_safe.planning import PhasePlan, pending_for_leaves
from django_deploykit.migrate_safe.running_code import Judging
from django_deploykit.migrate_safe.verdicts import MigrationVerdict
from tests.commands import run_command
from tests.migrate_safe.conftest import use_graph
from tests.migrate_safe.graphs.histories.operations import (
    ConcurrentlyBuiltAddIndex,
    GuardedRemoveIndex,
    RenderedOnlyField,
    StateOnlyAddIndex,
)
from tests.migrate_safe.test_schema_equivalence import recorded, schema


def assert_same_as_migrate(phased: str, plain: str) -> None:
    """The schema and django_migrations rows migrate_safe left equal those plain migrate left."""
    assert (schema(phased), recorded(phased)) == (schema(plain), recorded(plain))


def previous(alias: str) -> None:
    for app_label in ("ms_shop", "ms_billing"):
        call_command("migrate", app_label, "0001", database=alias, verbosity=0)


def upgrade_plan(alias: str) -> PhasePlan:
    with use_graph("histories"):
        previous(alias)
        return pending_for_leaves(connections[alias])


def verdict(plan: PhasePlan, label: str) -> MigrationVerdict:
    return next(v for v in plan.migrations if v.label == label)


def shop_verdict_after_0001(graph: str, alias: str) -> MigrationVerdict:
    """The verdict of ms_shop's one pending migration, with 0001 applied, in ``graph``."""
    with use_graph(graph):
        call_command("migrate", "ms_shop", "0001", database=alias, verbosity=0)
        plan = pending_for_leaves(connections[alias])
    (found,) = [v for v in plan.migrations if v.app_label == "ms_shop"]
    return found


# (migration, its phase, each operation's phase, words of the first operation's reason)
EXPECTED = [
    ("ms_shop.0002_name_to_text", "additive", ["additive"], "widens the column type varchar(50) -> "),
    ("ms_shop.0003_options_outside_the_database", "additive", ["any", "any", "any"], "emits no SQL"),
    ("ms_shop.0004_unique_together_to_partial_constraint", "additive", ["additive", "any"], "removes"),
    ("ms_shop.0005_replace_index", "additive", ["any", "any"], "Dropping an index changes no result"),
    ("ms_shop.0006_state_only_index", "additive", ["any"], "database step that does nothing"),
    ("ms_shop.0007_shelf", "additive", ["additive"], "new table"),
    ("ms_shop.0008_shelf_label_required", "additive", ["additive"], "running code does not have"),
    ("ms_shop.0009_scratch", "additive", ["additive"], "nullable column"),
    ("ms_shop.0010_scratch_required", "additive", ["any"], "added and dropped within this plan"),
    ("ms_shop.0011_remove_scratch", "additive", ["any"], "added earlier in this plan"),
    ("ms_shop.0012_code_unique", "destructive", ["destructive"], "Tightens the column (unique added)"),
    ("ms_stock.0001_initial", "additive", ["additive"], "new table"),
    ("ms_stock.0002_first_stock", "additive", ["additive"], "was never migrated on this database"),
    ("ms_billing.0002_note_and_stamp", "additive", ["additive"] * 3, "which Django fills with ''"),
    ("ms_billing.0003_batch", "additive", ["additive", "any"], "nullable column"),
    ("ms_billing.0004_delete_ledger", "destructive", ["any", "destructive"], "only the old code sees"),
]


class VerdictTests:
    @pytest.mark.parametrize(("label", "phase", "op_phases", "words"), EXPECTED)
    def test_sqlite(self, sqlite_db: str, label: str, phase: str, op_phases: list[str], words: str) -> None:
        v = verdict(upgrade_plan(sqlite_db), label)
        assert (v.phase, [op.phase for op in v.operations]) == (phase, op_phases)
        assert words in v.operations[0].reason

    def test_no_false_data_loss_on_a_charfield_becoming_a_textfield(self, sqlite_db: str) -> None:
        op = verdict(upgrade_plan(sqlite_db), "ms_shop.0002_name_to_text").operations[0]
        assert "data-loss" not in [h.kind for h in op.hazards]

    def test_the_partial_constraint_is_explained_by_the_uniqueness_it_replaces(self, sqlite_db: str) -> None:
        op = verdict(
            upgrade_plan(sqlite_db), "ms_shop.0004_unique_together_to_partial_constraint"
        ).operations[1]
        assert "implied by the uniqueness of (code, name) this migration removes" in op.reason

    def test_what_django_fills_new_rows_with_is_kept_as_the_db_default(self, sqlite_db: str) -> None:
        ops = verdict(upgrade_plan(sqlite_db), "ms_billing.0002_note_and_stamp").operations
        assert "creates it with DB default ''" in ops[0].reason
        assert (
            "auto_now or auto_now_add: the additive phase creates it with DB default NOW()" in ops[1].reason
        )

    def test_a_uniqueness_over_a_column_the_old_code_leaves_null_tightens_nothing(
        self, sqlite_db: str
    ) -> None:
        op = verdict(upgrade_plan(sqlite_db), "ms_billing.0003_batch").operations[1]
        assert "over a column the old code leaves NULL" in op.reason

    def test_unknown_options_are_named_and_never_destructive(self, sqlite_db: str) -> None:
        ops = verdict(upgrade_plan(sqlite_db), "ms_shop.0003_options_outside_the_database").operations
        assert "allow_unicode" in ops[0].reason
        assert "encoder" in ops[1].reason
        assert "palette" in ops[2].reason

    def test_the_plan_splits_with_nothing_blocked(self, sqlite_db: str) -> None:
        plan = upgrade_plan(sqlite_db)
        assert plan.blocked == []
        assert sorted(v.label for v in plan.destructive) == [
            "ms_billing.0004_delete_ledger",
            "ms_shop.0012_code_unique",
        ]

    @pytest.mark.postgresql
    def test_postgresql_names_the_same_verdicts(self, postgres_db: str) -> None:
        plan = upgrade_plan(postgres_db)
        assert sorted((v.label, v.phase) for v in plan.migrations if v.app_label.startswith("ms_")) == sorted(
            (label, phase) for label, phase, _, _ in EXPECTED
        )
        # PostgreSQL widens varchar to text in place: no table rewrite.
        assert verdict(plan, "ms_shop.0002_name_to_text").operations[0].hazards == []

    @pytest.mark.mysql
    def test_mariadb_names_the_same_verdicts(self, mysql_db: str) -> None:
        plan = upgrade_plan(mysql_db)
        assert sorted((v.label, v.phase) for v in plan.migrations if v.app_label.startswith("ms_")) == sorted(
            (label, phase) for label, phase, _, _ in EXPECTED
        )
        assert "longtext" in verdict(plan, "ms_shop.0002_name_to_text").operations[0].reason


def phased_upgrade(phased: str, plain: str) -> None:
    with use_graph("histories"):
        for alias in (phased, plain):
            previous(alias)
        assert run_command("migrate_safe", phase="additive", database=phased)[2] == 0
        assert run_command("migrate_safe", phase="destructive", database=phased)[2] == 0
        call_command("migrate", database=plain, verbosity=0)


class UpgradeEqualsMigrateTests:
    """Applied in two phases, the upgrade leaves migrate's schema and django_migrations rows."""

    def test_the_upgrade_in_two_phases_equals_migrate(self, database_pair: tuple[str, str]) -> None:
        phased_upgrade(*database_pair)
        assert_same_as_migrate(*database_pair)


class FirstInstallTests:
    """A database with no migration applied has no old code: one phase, and --check passes."""

    def test_every_migration_runs_in_the_additive_phase(self, sqlite_db: str) -> None:
        with use_graph("histories"):
            plan = pending_for_leaves(connections[sqlite_db])
        assert plan.blocked == []
        assert plan.destructive == []
        assert {v.source for v in plan.migrations} == {"first-install"}

    def test_check_reports_pending_not_blocked_and_the_plan_says_why(self, sqlite_db: str) -> None:
        with use_graph("rules"):
            out, _, code = run_command("migrate_safe", check=True, database=sqlite_db)
        assert code == ExitCode.MIGRATIONS_PENDING
        assert "first install" in out.lower()

    def test_an_upgrade_of_the_same_graph_is_still_judged(self, sqlite_db: str) -> None:
        with use_graph("rules"):
            call_command("migrate", "ms_shop", "0001", database=sqlite_db, verbosity=0)
            _, _, code = run_command("migrate_safe", check=True, database=sqlite_db)
        assert code == ExitCode.MIGRATIONS_BLOCKED

    @pytest.mark.postgresql
    def test_postgresql_first_install_then_nothing_destructive(
        self, postgres_db: str, postgres_db_b: str
    ) -> None:
        with use_graph("histories"):
            assert run_command("migrate_safe", phase="additive", database=postgres_db)[2] == 0
            _, _, code = run_command("migrate_safe", check=True, database=postgres_db)
            call_command("migrate", database=postgres_db_b, verbosity=0)
        assert code == 0
        assert_same_as_migrate(postgres_db, postgres_db_b)


class OperationSubclassTests:
    """A package's subclass of a known operation is judged by what its database step does."""

    def _judge(self, alias: str, op: Any) -> Any:
        state = ProjectState()
        state.add_model(
            ModelState(
                "ms_shop",
                "Product",
                [("id", models.BigAutoField(primary_key=True)), ("slug", models.SlugField())],
                {},
            )
        )
        return judge(op, "ms_shop", state, Judging(connections[alias]))

    def test_an_empty_database_step_changes_nothing(self, sqlite_db: str) -> None:
        op = StateOnlyAddIndex("product", models.Index(fields=["slug"], name="slug_idx"))
        assert self._judge(sqlite_db, op).phase == "any"

    def test_a_guard_around_the_base_step_is_judged_as_the_base_class(self, sqlite_db: str) -> None:
        state = ProjectState()
        state.add_model(
            ModelState(
                "ms_shop",
                "Product",
                [("id", models.BigAutoField(primary_key=True)), ("slug", models.SlugField())],
                {"indexes": [models.Index(fields=["slug"], name="slug_idx")]},
            )
        )
        j = judge(
            GuardedRemoveIndex("product", "slug_idx"), "ms_shop", state, Judging(connections[sqlite_db])
        )
        assert j.phase == "any"
        assert "GuardedRemoveIndex runs RemoveIndex's database step under a guard of its own" in j.reason

    def test_an_alterfield_whose_parameters_cannot_be_computed_is_unknown(self, sqlite_db: str) -> None:
        state = ProjectState()
        state.add_model(
            ModelState(
                "ms_shop",
                "Product",
                [("id", models.BigAutoField(primary_key=True)), ("code", RenderedOnlyField(max_length=10))],
                {},
            )
        )
        op = AlterField("product", "code", RenderedOnlyField(max_length=20))
        j = judge(op, "ms_shop", state, Judging(connections[sqlite_db]))
        assert j.phase == "unknown"
        assert "database parameters could not be computed" in j.reason

    def test_a_database_step_of_its_own_is_unknown_and_names_the_review(self, sqlite_db: str) -> None:
        op = ConcurrentlyBuiltAddIndex("product", models.Index(fields=["slug"], name="slug_idx"))
        j = self._judge(sqlite_db, op)
        assert j.phase == "unknown"
        assert "ConcurrentlyBuiltAddIndex subclasses AddIndex but runs its own database step" in j.reason
        assert "migrate_safe --review" in j.fix


def relax_then_drop(phased: str, plain: str) -> None:
    """The deploy of a RemoveField of a NOT NULL column: additive, the new code inserts, destructive."""
    with use_graph("drop_not_null"):
        for alias in (phased, plain):
            call_command("migrate", "ms_shop", "0001", database=alias, verbosity=0)
        out, err, code = run_command("migrate_safe", phase="additive", database=phased, format="json")
        assert code == 0, err
        assert json.loads(out)["relaxed"] == ["ms_shop_product.sku"]
        # The new code is live: its INSERT leaves sku out and works; the old code's still sets it.
        with connections[phased].cursor() as cursor:
            cursor.execute("INSERT INTO ms_shop_product (name) VALUES ('new code')")
            cursor.execute("INSERT INTO ms_shop_product (name, sku) VALUES ('old code', 'A-1')")
        # Running the additive phase again changes nothing more.
        assert run_command("migrate_safe", phase="additive", database=phased)[2] == 0
        assert run_command("migrate_safe", phase="destructive", database=phased)[2] == 0
        # Without the relaxing step, the new code's INSERT fails until the column is dropped.
        with connections[plain].cursor() as cursor, pytest.raises(DatabaseError):
            cursor.execute("INSERT INTO ms_shop_product (name) VALUES ('new code')")
        call_command("migrate", database=plain, verbosity=0)


class RelaxBeforeDropTests:
    """A NOT NULL column a destructive migration drops is made nullable by the additive phase."""

    def test_the_verdict_says_what_happens(self, sqlite_db: str) -> None:
        v = shop_verdict_after_0001("drop_not_null", sqlite_db)
        assert v.phase == "destructive"
        assert "the additive phase first makes it nullable" in v.operations[0].reason

    def test_the_deploy_ends_as_migrate(self, database_pair: tuple[str, str]) -> None:
        relax_then_drop(*database_pair)
        assert_same_as_migrate(*database_pair)


def split_alter(phased: str, plain: str) -> None:
    """The deploy of an AlterField that widens a column and makes it NOT NULL at once."""
    with use_graph("split_alter"):
        for alias in (phased, plain):
            call_command("migrate", "ms_shop", "0001", database=alias, verbosity=0)
        out, err, code = run_command("migrate_safe", phase="additive", database=phased, format="json")
        assert code == 0, err
        assert json.loads(out)["relaxed"] == ["ms_shop_product.scope"]
        with connections[phased].cursor() as cursor:
            # The new code writes a longer value; the old code still writes NULL.
            cursor.execute("INSERT INTO ms_shop_product (name, scope) VALUES ('new', %s)", ["x" * 40])
            cursor.execute("INSERT INTO ms_shop_product (name, scope) VALUES ('old', NULL)")
            cursor.execute("DELETE FROM ms_shop_product WHERE scope IS NULL")
        assert run_command("migrate_safe", phase="destructive", database=phased)[2] == 0
        call_command("migrate", database=plain, verbosity=0)


class SplitAlterFieldTests:
    """An AlterField that relaxes and tightens through NULL runs in two halves, one per phase."""

    def test_the_verdict_says_what_happens(self, sqlite_db: str) -> None:
        v = shop_verdict_after_0001("split_alter", sqlite_db)
        assert v.phase == "destructive"
        assert "the additive phase applies the relaxing half first" in v.operations[0].reason

    def test_a_split_not_through_null_is_still_refused(self, sqlite_db: str) -> None:
        state = ProjectState()
        state.add_model(
            ModelState(
                "ms_shop",
                "Product",
                [("id", models.BigAutoField(primary_key=True)), ("code", models.CharField(max_length=10))],
                {},
            )
        )
        op = AlterField("product", "code", models.CharField(max_length=40, unique=True))
        j = judge(op, "ms_shop", state, Judging(connections[sqlite_db]))
        assert j.phase == "refused"
        assert "Split it into two AlterField migrations" in j.fix

    def test_the_deploy_ends_as_migrate(self, database_pair: tuple[str, str]) -> None:
        split_alter(*database_pair)
        assert_same_as_migrate(*database_pair)
