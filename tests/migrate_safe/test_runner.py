"""run_phase: the Python API the swap code uses to run one phase under the lock."""

from __future__ import annotations

import pytest
from django.db import connections

from django_deploykit.migrate_safe.runner import PhaseRefused, run_phase
from tests.migrate_safe.conftest import previous_release, use_graph


class RunPhaseTests:
    def test_additive_then_destructive(self, sqlite_db: str) -> None:
        connection = connections[sqlite_db]
        announced: list[list[str]] = []
        with use_graph("expand"):
            previous_release(sqlite_db)
            first = run_phase(
                connection,
                "additive",
                announce=lambda plan: announced.append([v.label for v in plan.additive]),
            )
            second = run_phase(connection, "destructive")
            third = run_phase(connection, "all")
        assert "ms_shop.0002_product_colour" in first.applied
        assert announced == [first.applied]
        assert second.applied == ["ms_shop.0003_remove_legacy", "ms_shop.0004_product_size"]
        assert third.applied == []

    def test_a_refused_phase_applies_nothing(self, sqlite_db: str) -> None:
        connection = connections[sqlite_db]
        with use_graph("expand"), pytest.raises(PhaseRefused, match="run --phase=additive before the swap"):
            run_phase(connection, "destructive")
        assert connection.introspection.table_names() == []

    def test_targets_limit_the_plan(self, sqlite_db: str) -> None:
        with use_graph("expand"):
            run = run_phase(connections[sqlite_db], "additive", [("ms_shop", "0001_initial")])
        assert run.applied == ["ms_shop.0001_initial"]
