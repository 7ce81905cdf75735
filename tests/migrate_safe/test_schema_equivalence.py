"""Additive then destructive leaves exactly the schema plain ``migrate`` leaves, on every backend."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.db import connections

from django_deploykit.migrate_safe.schema import snapshot
from tests.commands import run_command
from tests.migrate_safe.conftest import use_graph


def schema(alias: str) -> dict[str, Any]:
    """The package's detailed schema snapshot: with each column's database default, since expand/contract
    keeps some defaults until the destructive phase."""
    return snapshot(connections[alias], in_detail=True)


def phased_then_plain(
    phased: str, plain: str, graph: str = "expand"
) -> tuple[dict[str, Any], dict[str, Any]]:
    with use_graph(graph):
        assert run_command("migrate_safe", phase="additive", database=phased)[2] == 0
        assert run_command("migrate_safe", phase="destructive", database=phased)[2] == 0
        call_command("migrate", database=plain, verbosity=0)
    return schema(phased), schema(plain)


def backwards_then_plain(phased: str, plain: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Everything applied, then back to ms_shop.0002 with migrate_safe; against plain migrate doing the same."""
    with use_graph("expand"):
        assert run_command("migrate_safe", phase="all", database=phased)[2] == 0
        assert run_command("migrate_safe", "ms_shop", "0002", phase="additive", database=phased)[2] == 0
        assert run_command("migrate_safe", "ms_shop", "0002", phase="destructive", database=phased)[2] == 0
        call_command("migrate", database=plain, verbosity=0)
        call_command("migrate", "ms_shop", "0002", database=plain, verbosity=0)
    return schema(phased), schema(plain)


class SchemaEquivalenceTests:
    def test_additive_then_destructive_equals_migrate(self, database_pair: tuple[str, str]) -> None:
        phased, plain = phased_then_plain(*database_pair)
        assert "ms_shop_product" in phased
        assert "product_name_idx" in [c[0] for c in phased["ms_shop_product"]["constraints"]]
        assert "one_stock_per_product" in [c[0] for c in phased["ms_stock_stock"]["constraints"]]
        assert phased == plain


class BackwardsEquivalenceTests:
    def test_unapplying_equals_migrate(self, database_pair: tuple[str, str]) -> None:
        """On MariaDB, without transactional DDL, this goes through the journal."""
        undone, plain = backwards_then_plain(*database_pair)
        assert "legacy" in [c[0] for c in undone["ms_shop_product"]["columns"]]
        assert undone == plain


class ExpandContractEquivalenceTests:
    """NOT NULL columns with only a Python default: created with a DB default by the additive
    phase, which the destructive phase removes, so the end is plain migrate's schema."""

    def test_additive_then_destructive_equals_migrate(self, database_pair: tuple[str, str]) -> None:
        phased, plain = phased_then_plain(*database_pair, "expand_contract")
        assert "weight" in [c[0] for c in phased["ms_shop_product"]["columns"]]
        assert phased == plain


def recorded(alias: str) -> list[tuple[str, str]]:
    from django.db.migrations.recorder import MigrationRecorder

    return sorted(MigrationRecorder(connections[alias]).applied_migrations())


def squashed_rows(phased: str, plain: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    with use_graph("squashed"):
        assert run_command("migrate_safe", phase="additive", database=phased)[2] == 0
        assert run_command("migrate_safe", phase="destructive", database=phased)[2] == 0
        call_command("migrate", database=plain, verbosity=0)
    return recorded(phased), recorded(plain)


class SquashedRowsTests:
    """django_migrations holds the same rows as after plain migrate, the squashed node's own row
    included: once a package removes `replaces`, the database must still look migrated."""

    def test_the_rows_equal_migrates(self, database_pair: tuple[str, str]) -> None:
        phased, plain = squashed_rows(*database_pair)
        assert ("ms_shop", "0001_squashed_0002_colour") in phased
        assert phased == plain
