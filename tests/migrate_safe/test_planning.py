"""Phase splits on real graphs: diamonds, cross-app dependencies, backwards plans, the API."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connections

from django_deploykit.migrate_safe.planning import (
    PhasePlan,
    PlanError,
    executor_for,
    pending_for_leaves,
    plan_to,
    resolve_targets,
)
from tests.migrate_safe.conftest import previous_release, use_graph


def labels(verdicts: list) -> list[str]:
    return [v.label for v in verdicts if v.app_label.startswith("ms_")]


def migrate_all(alias: str) -> None:
    call_command("migrate", database=alias, verbosity=0)


class PhaseSplitTests:
    def test_diamond_holds_back_the_merge_behind_its_destructive_side(self, sqlite_db: str) -> None:
        with use_graph("diamond"):
            previous_release(sqlite_db)
            plan = pending_for_leaves(connections[sqlite_db])
        assert labels(plan.additive) == ["ms_shop.0002_left", "ms_stock.0001_initial"]
        assert labels(plan.destructive) == [
            "ms_shop.0002_right",
            "ms_shop.0003_merge",
            "ms_shop.0004_after_merge",
        ]
        assert plan.held_back == {
            "ms_shop.0003_merge": "Held back from the additive phase: it needs ms_shop.0002_right (destructive) first.",
            "ms_shop.0004_after_merge": "Held back from the additive phase: it needs ms_shop.0003_merge (held back) first.",
        }

    def test_cross_app_dependencies_hold_back_other_apps_transitively(self, sqlite_db: str) -> None:
        with use_graph("cross_app"):
            previous_release(sqlite_db)
            plan = pending_for_leaves(connections[sqlite_db])
        assert labels(plan.additive) == [
            "ms_stock.0001_initial",
            "ms_billing.0001_initial",
        ]
        assert labels(plan.destructive) == [
            "ms_shop.0002_remove_legacy",
            "ms_stock.0002_stock_note",
            "ms_billing.0002_invoice_currency",
        ]
        assert "ms_shop.0002_remove_legacy (destructive)" in plan.held_back["ms_stock.0002_stock_note"]
        assert "ms_stock.0002_stock_note (held back)" in plan.held_back["ms_billing.0002_invoice_currency"]

    def test_the_additive_phase_is_closed_under_dependencies(self, sqlite_db: str) -> None:
        with use_graph("cross_app"):
            executor = executor_for(connections[sqlite_db])
            plan = pending_for_leaves(connections[sqlite_db], executor)
            chosen = {v.key for v in plan.additive}
            for key in chosen:
                parents = {p.key for p in executor.loader.graph.node_map[key].parents}
                assert parents <= chosen

    def test_after_the_additive_phase_only_the_destructive_part_is_pending(self, sqlite_db: str) -> None:
        with use_graph("cross_app"):
            before = pending_for_leaves(connections[sqlite_db])
            call_command("migrate_safe", phase="additive", database=sqlite_db, verbosity=0)
            after = pending_for_leaves(connections[sqlite_db])
        assert labels(after.migrations) == labels(before.destructive)
        assert after.additive == []


class BackwardsPlanTests:
    def test_unapplying_flips_phases_and_names_the_data_lost(self, sqlite_db: str) -> None:
        with use_graph("cross_app"):
            migrate_all(sqlite_db)
            plan = plan_to([("ms_shop", "0001_initial")], connections[sqlite_db])
        assert plan.direction == "backwards"
        phases = {v.label: v.phase for v in plan.migrations}
        assert phases == {
            "ms_billing.0002_invoice_currency": "destructive",
            "ms_stock.0002_stock_note": "destructive",
            "ms_shop.0002_remove_legacy": "additive",
        }
        note = next(v for v in plan.migrations if v.label == "ms_stock.0002_stock_note")
        assert [h.reason for h in note.operations[0].hazards if h.kind == "data-loss"] == [
            "Unapplying 'Add field note to stock' deletes its data."
        ]
        legacy = next(v for v in plan.migrations if v.label == "ms_shop.0002_remove_legacy")
        assert [h.reason for h in legacy.operations[0].hazards] == [
            "Unapplying 'Remove field legacy from product' brings back the structure, not the data it held."
        ]
        # Re-adding the dropped column is additive, but it waits for its dependants to be undone.
        assert labels(plan.additive) == []
        assert "ms_stock.0002_stock_note (destructive)" in plan.held_back["ms_shop.0002_remove_legacy"]

    def test_undoing_a_relaxed_column_warns_that_values_may_not_fit(self, sqlite_db: str) -> None:
        with use_graph("rules"):
            call_command("migrate", database=sqlite_db, fake=True, verbosity=0)
            plan = plan_to([("ms_shop", "0006_remove_not_null")], connections[sqlite_db])
        widen = next(v for v in plan.migrations if v.label == "ms_shop.0007_widen")
        assert widen.phase == "destructive"
        assert any("tightens the column again" in h.reason for h in widen.operations[0].hazards)

    def test_a_backwards_plan_lists_irreversible_operations(self, sqlite_db: str) -> None:
        with use_graph("markers", DEPLOYKIT_MIGRATION_PHASES={"ms_shop.0003_setting_sql": "destructive"}):
            migrate_all(sqlite_db)
            plan = plan_to([("ms_shop", "0001_initial")], connections[sqlite_db])
        # In the order they would be undone.
        assert plan.irreversible == [
            "ms_shop.0003_setting_sql operation 1 (Raw SQL operation)",
            "ms_shop.0002_marked_python operation 1 (Raw Python operation)",
        ]

    def test_a_plan_both_ways_is_refused(self, sqlite_db: str) -> None:
        with use_graph("cross_app"):
            call_command("migrate", "ms_shop", "0001", database=sqlite_db, verbosity=0)
            call_command("migrate", "ms_stock", "0001", database=sqlite_db, verbosity=0)
            with pytest.raises(PlanError, match="one at a time"):
                plan_to([("ms_stock", None), ("ms_billing", "0001_initial")], connections[sqlite_db])


class PythonApiTests:
    def test_pending_for_leaves_is_the_plan_to_every_leaf(self, sqlite_db: str) -> None:
        with use_graph("diamond"):
            executor = executor_for(connections[sqlite_db])
            leaves = executor.loader.graph.leaf_nodes()
            a = pending_for_leaves(connections[sqlite_db])
            b = plan_to(leaves, connections[sqlite_db])
        assert [v.label for v in a.migrations] == [v.label for v in b.migrations]
        assert isinstance(a, PhasePlan)

    def test_plan_to_an_older_node_of_another_release(self, sqlite_db: str) -> None:
        with use_graph("diamond"):
            plan = plan_to([("ms_shop", "0002_left")], connections[sqlite_db])
        assert labels(plan.migrations) == ["ms_shop.0001_initial", "ms_shop.0002_left"]
        assert labels(plan.additive) == labels(plan.migrations)

    def test_nothing_pending_gives_an_empty_plan(self, sqlite_db: str) -> None:
        with use_graph("diamond"):
            migrate_all(sqlite_db)
            plan = pending_for_leaves(connections[sqlite_db])
        assert (plan.direction, plan.migrations, plan.additive, plan.destructive) == ("none", [], [], [])


class TargetTests:
    @pytest.mark.parametrize(
        ("app", "name", "message"),
        [
            ("nope", None, "No installed app with label 'nope'"),
            ("ms_billing", None, "App 'ms_billing' has no migrations."),
            ("ms_shop", "0009", "has no migration named '0009'"),
            ("ms_shop", "0002", "More than one migration in 'ms_shop' starts with '0002'"),
        ],
    )
    def test_bad_targets_say_what_to_do(
        self, sqlite_db: str, app: str, name: str | None, message: str
    ) -> None:
        with use_graph("diamond"):
            executor = executor_for(connections[sqlite_db])
            with pytest.raises(PlanError, match=message):
                resolve_targets(executor.loader, app, name)

    def test_zero_and_prefixes(self, sqlite_db: str) -> None:
        with use_graph("diamond"):
            loader = executor_for(connections[sqlite_db]).loader
            assert resolve_targets(loader, "ms_shop", "zero") == [("ms_shop", None)]
            assert resolve_targets(loader, "ms_shop", "0003") == [("ms_shop", "0003_merge")]
            assert resolve_targets(loader, "ms_shop", None) == [("ms_shop", "0004_after_merge")]

    def test_conflicting_leaves_are_refused(self, sqlite_db: str) -> None:
        with use_graph("conflict"), pytest.raises(PlanError, match="makemigrations --merge"):
            executor_for(connections[sqlite_db])


class SquashedMigrationTests:
    def test_a_fresh_database_plans_the_squashed_node_and_records_what_it_replaces(
        self, sqlite_db: str
    ) -> None:
        from django.db.migrations.recorder import MigrationRecorder

        with use_graph("squashed"):
            plan = pending_for_leaves(connections[sqlite_db])
            # A first install: one phase, the squashed node instead of what it replaces.
            assert labels(plan.additive)[-2:] == [
                "ms_shop.0001_squashed_0002_colour",
                "ms_shop.0003_remove_legacy",
            ]
            assert plan.destructive == []
            call_command("migrate_safe", phase="additive", database=sqlite_db, verbosity=0)
            applied = MigrationRecorder(connections[sqlite_db]).applied_migrations()
            assert {
                ("ms_shop", "0001_initial"),
                ("ms_shop", "0002_colour"),
                ("ms_shop", "0001_squashed_0002_colour"),
            } <= set(applied)
            assert pending_for_leaves(connections[sqlite_db]).migrations == []

    def test_a_half_applied_squash_plans_the_original_migrations(self, sqlite_db: str) -> None:
        from django.db.migrations.recorder import MigrationRecorder

        with use_graph("squashed"):
            recorder = MigrationRecorder(connections[sqlite_db])
            recorder.ensure_schema()
            recorder.record_applied("ms_shop", "0001_initial")
            plan = pending_for_leaves(connections[sqlite_db])
        assert labels(plan.additive) == ["ms_shop.0002_colour"]
        assert labels(plan.destructive) == ["ms_shop.0003_remove_legacy"]
