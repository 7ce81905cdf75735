"""The migrate_safe command on SQLite: --plan, --check, JSON, applying phases with signals, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.db import connections
from django.db.migrations.recorder import MigrationRecorder

from django_deploykit.exit_codes import ExitCode
from tests.commands import run_command
from tests.json_fields import assert_documented
from tests.migrate_safe.conftest import previous_release, use_graph


def snapshot(alias: str) -> tuple[list[tuple[str, str]], list[str]]:
    """What a run may change: the applied migrations and the tables."""
    connection = connections[alias]
    tables = sorted(connection.introspection.table_names())
    applied = (
        sorted(MigrationRecorder(connection).applied_migrations()) if "django_migrations" in tables else []
    )
    return applied, tables


class CheckExitCodeTests:
    def test_nothing_pending_is_0(self, sqlite_db: str) -> None:
        with use_graph("expand"):
            call_command("migrate", database=sqlite_db, verbosity=0)
            assert run_command("migrate_safe", check=True, database=sqlite_db)[2] == 0

    def test_pending_is_migrations_pending(self, sqlite_db: str) -> None:
        with use_graph("expand"):
            assert (
                run_command("migrate_safe", check=True, database=sqlite_db)[2] == ExitCode.MIGRATIONS_PENDING
            )

    def test_pending_in_the_chosen_phase_only(self, sqlite_db: str) -> None:
        with use_graph("expand"):
            previous_release(sqlite_db)
            call_command("migrate_safe", phase="additive", database=sqlite_db, verbosity=0)
            assert run_command("migrate_safe", check=True, phase="additive", database=sqlite_db)[2] == 0
            assert (
                run_command("migrate_safe", check=True, phase="destructive", database=sqlite_db)[2]
                == ExitCode.MIGRATIONS_PENDING
            )

    def test_mixed_or_unclassified_is_migrations_blocked(self, sqlite_db: str) -> None:
        with use_graph("rules"):
            previous_release(sqlite_db)
            out, _, code = run_command("migrate_safe", check=True, database=sqlite_db)
        assert code == ExitCode.MIGRATIONS_BLOCKED
        assert "Runs in no phase until split or marked" in out

    def test_codes_differ_from_errors_and_usage(self, sqlite_db: str) -> None:
        with use_graph("expand"):
            assert run_command("migrate_safe", check=True, database="nope")[2] == 1


class JsonTests:
    def test_plan_json_shape_is_stable(self, sqlite_db: str) -> None:
        with use_graph("cross_app"):
            previous_release(sqlite_db)
            out, _, code = run_command(
                "migrate_safe", plan=True, format="json", phase="additive", database=sqlite_db
            )
        assert code == 0
        data = json.loads(out)
        assert sorted(data) == [
            "additive",
            "blocked",
            "contractions",
            "database",
            "destructive",
            "direction",
            "exit_code",
            "format_version",
            "held_back",
            "irreversible",
            "migrations",
            "phase",
            "selected",
            "vendor",
        ]
        assert (data["format_version"], data["database"], data["vendor"], data["phase"]) == (
            1,
            sqlite_db,
            "sqlite",
            "additive",
        )
        assert data["selected"] == data["additive"]
        migration = next(m for m in data["migrations"] if m["name"] == "0002_remove_legacy")
        assert sorted(migration) == [
            "app_label",
            "atomic",
            "direction",
            "hazards",
            "name",
            "operations",
            "phase",
            "reason",
            "source",
            "split",
        ]
        assert migration["operations"] == [
            {
                "index": 1,
                "lock": "the whole database is locked for writing",
                "operation": "RemoveField",
                "description": "Remove field legacy from product",
                "phase": "destructive",
                "reason": "Drops a column the old code still reads; the new code no longer uses it.",
                "fix": "",
                "hazards": [{"kind": "data-loss", "reason": "The values of product.legacy are deleted."}],
            }
        ]

    def test_check_json_carries_the_exit_code_and_sql(self, sqlite_db: str) -> None:
        with use_graph("expand"):
            out, _, code = run_command("migrate_safe", check=True, format="json", database=sqlite_db)
            plan_out, _, _ = run_command(
                "migrate_safe", plan=True, sql=True, format="json", database=sqlite_db
            )
        assert json.loads(out)["exit_code"] == code == ExitCode.MIGRATIONS_PENDING
        colour = next(m for m in json.loads(plan_out)["migrations"] if m["name"] == "0002_product_colour")
        assert any('ADD COLUMN "colour"' in s for s in colour["sql"])

    def test_every_action_prints_one_json_object_with_the_documented_fields(self, sqlite_db: str) -> None:
        with use_graph("expand"):
            previous_release(sqlite_db)
            check_out, _, check_code = run_command(
                "migrate_safe", check=True, format="json", database=sqlite_db
            )
            refused_out, refused_err, refused_code = run_command(
                "migrate_safe", phase="destructive", format="json", database=sqlite_db
            )
            applied_out, applied_err, applied_code = run_command(
                "migrate_safe", phase="additive", format="json", database=sqlite_db
            )
        check = json.loads(check_out)
        assert_documented(check, "migrate_safe.md", "`migrate_safe --plan` and `--check`")
        assert check_code == check["exit_code"] == ExitCode.MIGRATIONS_PENDING
        # Refused before anything ran: the error, as JSON too.
        refused = json.loads(refused_out)
        assert refused_code == refused["exit_code"] == 1
        assert refused["error"] in refused_err
        # Applied: only the JSON on stdout (json.loads would fail on progress lines).
        applied = json.loads(applied_out)
        assert applied_code == 0, applied_err
        assert_documented(applied, "migrate_safe.md", "`migrate_safe --phase=PHASE`")
        assert (applied["action"], applied["phase"], applied["exit_code"]) == ("apply", "additive", 0)
        assert "ms_shop.0002_product_colour" in applied["applied"]
        assert applied["waiting_for_destructive"] == [
            "ms_shop.0003_remove_legacy",
            "ms_shop.0004_product_size",
        ]


class PlanTextTests:
    def test_plan_text_names_phases_reasons_and_what_is_held_back(self, sqlite_db: str) -> None:
        with use_graph("expand"):
            previous_release(sqlite_db)
            before = snapshot(sqlite_db)
            out, _, code = run_command(
                "migrate_safe", plan=True, sql=True, phase="additive", database=sqlite_db
            )
        assert code == 0
        assert "  ms_shop.0003_remove_legacy  [destructive, rules]" in out
        assert (
            "Held back from the additive phase: it needs ms_shop.0003_remove_legacy (destructive) first."
            in out
        )
        assert 'CREATE INDEX "product_name_idx"' in out
        assert (
            "Destructive phase (after the swap): ms_shop.0003_remove_legacy, ms_shop.0004_product_size" in out
        )
        assert snapshot(sqlite_db) == before


class ApplyTests:
    def test_additive_then_destructive_with_signals_and_progress(self, sqlite_db: str) -> None:
        with use_graph("expand"):
            previous_release(sqlite_db)
            out, err, code = run_command("migrate_safe", phase="additive", database=sqlite_db)
            assert (code, err) == (0, "")
            assert "Running migrations (additive phase):" in out
            assert "  Applying ms_shop.0002_product_colour... OK" in out
            assert (
                "2 migration(s) wait for the destructive phase: ms_shop.0003_remove_legacy, ms_shop.0004_product_size"
                in out
            )
            applied, _ = snapshot(sqlite_db)
            assert ("ms_shop", "0003_remove_legacy") not in applied
            assert ("ms_stock", "0001_initial") in applied

            # post_migrate ran as under migrate: content types and permissions exist.
            with connections[sqlite_db].cursor() as cursor:
                cursor.execute("SELECT app_label, model FROM django_content_type WHERE app_label = 'ms_shop'")
                assert cursor.fetchall() == [("ms_shop", "product")]
                cursor.execute(
                    "SELECT codename FROM auth_permission WHERE codename LIKE '%_product' ORDER BY 1"
                )
                assert [r[0] for r in cursor.fetchall()] == [
                    "add_product",
                    "change_product",
                    "delete_product",
                    "view_product",
                ]
            out, _, code = run_command("migrate_safe", phase="destructive", database=sqlite_db)
            assert code == 0
            assert "  Applying ms_shop.0004_product_size... OK" in out
            assert run_command("migrate_safe", check=True, database=sqlite_db)[2] == 0

    def test_signals_carry_the_filtered_plan(self, sqlite_db: str) -> None:
        from django.db.models.signals import post_migrate, pre_migrate

        seen: dict[str, list[str]] = {}

        def record(signal_name: str):  # type: ignore[no-untyped-def]
            def receiver(sender, plan, **kwargs):  # type: ignore[no-untyped-def]
                seen.setdefault(signal_name, [f"{m.app_label}.{m.name}" for m, _ in plan])

            return receiver

        with use_graph("expand"):
            previous_release(sqlite_db)
        pre, post = record("pre"), record("post")
        pre_migrate.connect(pre)
        post_migrate.connect(post)
        try:
            with use_graph("expand"):
                call_command("migrate_safe", phase="additive", database=sqlite_db, verbosity=0)
        finally:
            pre_migrate.disconnect(pre)
            post_migrate.disconnect(post)
        assert seen["pre"] == seen["post"]
        assert "ms_shop.0003_remove_legacy" not in seen["pre"]
        assert "ms_shop.0002_product_colour" in seen["pre"]

    def test_destructive_first_is_refused_and_changes_nothing(self, sqlite_db: str) -> None:
        with use_graph("expand"):
            _, err, code = run_command("migrate_safe", phase="destructive", database=sqlite_db)
        assert code == 1
        assert "run --phase=additive before the swap" in err
        assert snapshot(sqlite_db) == ([], [])

    def test_blocked_migrations_refuse_the_destructive_phase(self, sqlite_db: str) -> None:
        with use_graph("markers", DEPLOYKIT_MIGRATION_PHASES={"ms_shop.0003_setting_sql": "destructive"}):
            previous_release(sqlite_db)
            call_command("migrate_safe", phase="additive", database=sqlite_db, verbosity=0)
            before = snapshot(sqlite_db)
            _, err, code = run_command("migrate_safe", phase="destructive", database=sqlite_db)
            assert code == 1
            assert "These migrations run in no phase: ms_shop.0005_unmarked_sql" in err
            assert snapshot(sqlite_db) == before

    def test_phase_all_runs_everything_in_order(self, sqlite_db: str) -> None:
        with use_graph("cross_app"):
            code = run_command("migrate_safe", phase="all", database=sqlite_db)[2]
            assert code == 0
            assert run_command("migrate_safe", check=True, database=sqlite_db)[2] == 0

    def test_one_app_up_to_one_migration_then_back(self, sqlite_db: str) -> None:
        with use_graph("expand"):
            assert (
                run_command("migrate_safe", "ms_shop", "0002", phase="additive", database=sqlite_db)[2] == 0
            )
            applied, _ = snapshot(sqlite_db)
            assert ("ms_shop", "0002_product_colour") in applied
            assert ("ms_stock", "0001_initial") not in applied
            # Going back: unapplying the additive 0002 is destructive.
            _, _, code = run_command("migrate_safe", "ms_shop", "0001", phase="additive", database=sqlite_db)
            assert ("ms_shop", "0002_product_colour") in snapshot(sqlite_db)[0]
            out, _, code = run_command(
                "migrate_safe", "ms_shop", "0001", phase="destructive", database=sqlite_db
            )
            assert code == 0
            assert "  Unapplying ms_shop.0002_product_colour... OK" in out
            assert ("ms_shop", "0002_product_colour") not in snapshot(sqlite_db)[0]

    def test_irreversible_backwards_is_refused_and_changes_nothing(self, sqlite_db: str) -> None:
        with use_graph("markers", DEPLOYKIT_MIGRATION_PHASES={"ms_shop.0003_setting_sql": "destructive"}):
            call_command("migrate", database=sqlite_db, verbosity=0)
            before = snapshot(sqlite_db)
            _, err, code = run_command("migrate_safe", "ms_shop", "0001", phase="all", database=sqlite_db)
            assert code == 1
            assert "cannot be reversed. Nothing was unapplied." in err
            assert snapshot(sqlite_db) == before

    def test_fake_records_without_running(self, sqlite_db: str) -> None:
        with use_graph("expand"):
            out, _, code = run_command(
                "migrate_safe", "ms_shop", "0001", phase="additive", fake=True, database=sqlite_db
            )
            assert code == 0
            assert "FAKED" in out
            applied, tables = snapshot(sqlite_db)
            assert ("ms_shop", "0001_initial") in applied
            assert "ms_shop_product" not in tables


class BadInputTests:
    @pytest.mark.parametrize(
        ("args", "options", "message"),
        [
            ((), {"phase": "later"}, "Unknown phase 'later'"),
            ((), {}, "Choose a phase"),
            (("nope",), {"phase": "all"}, "No installed app with label 'nope'"),
            (("ms_shop", "0009"), {"phase": "all"}, "has no migration named '0009'"),
            (("ms_shop", "000"), {"phase": "all"}, "More than one migration in 'ms_shop' starts with '000'"),
            ((), {"phase": "all", "database": "nope"}, "There is no database alias 'nope'"),
            ((), {"phase": "all", "lock_timeout": "soon"}, "--lock-timeout 'soon' is not a duration"),
            (
                (),
                {"phase": "all", "statement_timeout": "5 parsecs"},
                "--statement-timeout '5 parsecs' is not a duration",
            ),
            ((), {"phase": "all", "retries": -1}, "--retries -1 is not a whole number"),
            ((), {"phase": "all", "format": "xml"}, "Unknown format 'xml'"),
            ((), {"phase": "all", "sql": True}, "--sql shows the SQL of a plan; add --plan."),
            ((), {"plan": True, "check": True}, "--plan and --check do different things"),
            ((), {"resume": True, "undo": True}, "Use --resume or --undo, not both."),
            ((), {"roundtrip": True, "plan": True}, "--plan and --roundtrip do different things"),
            ((), {"undo": True, "check": True}, "--check and --undo do different things"),
            ((), {"phase": "all", "resume": True}, "nothing to resume or undo"),
            (
                (),
                {"resume": True, "started": "maybe"},
                "--started must be 'applied' or 'not-applied', not 'maybe'",
            ),
            ((), {"undo": True, "started": ""}, "--started must be 'applied' or 'not-applied', not ''"),
            ((), {"phase": "all", "started": "applied"}, "--started goes with --resume or --undo"),
            ((), {"resume": True, "started": "applied"}, "nothing to resume or undo"),
        ],
    )
    def test_bad_input_is_a_clear_error_and_changes_nothing(
        self, sqlite_db: str, args: tuple[str, ...], options: dict[str, object], message: str
    ) -> None:
        options.setdefault("database", sqlite_db)
        with use_graph("expand"):
            _, err, code = run_command("migrate_safe", *args, **options)
        assert code == 1
        assert message in err
        assert snapshot(sqlite_db) == ([], [])

    def test_a_bad_phase_setting_fails_the_system_checks(self, sqlite_db: str) -> None:
        with use_graph("expand", DEPLOYKIT_MIGRATION_PHASES={"ms_shop.0001_initial": "soon"}):
            # call_command skips the checks unless asked; manage.py runs them.
            _, err, code = run_command("migrate_safe", phase="all", database=sqlite_db, skip_checks=False)
        assert code == 1
        assert "django_deploykit.E030" in err
        assert snapshot(sqlite_db) == ([], [])

    def test_conflicting_leaves(self, sqlite_db: str) -> None:
        with use_graph("conflict"):
            _, err, code = run_command("migrate_safe", phase="all", database=sqlite_db)
        assert code == 1
        assert "makemigrations --merge" in err
        assert snapshot(sqlite_db) == ([], [])

    def test_an_invalid_marker(self, sqlite_db: str) -> None:
        with use_graph("bad_marker"):
            _, err, code = run_command("migrate_safe", phase="all", database=sqlite_db)
        assert (code, snapshot(sqlite_db)) == (1, ([], []))
        assert "deploy_phase = 'later'" in err

    @pytest.mark.parametrize(
        ("argument", "message"),
        [("--no-such-option", "unrecognized arguments"), ("--retries=many", "invalid int value: 'many'")],
    )
    def test_usage_errors_exit_2(self, argument: str, message: str) -> None:
        result = subprocess.run(
            [sys.executable, "-m", "django", "migrate_safe", "--phase=all", argument],
            capture_output=True,
            text=True,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
            check=False,
        )
        assert result.returncode == 2
        assert message in result.stderr
