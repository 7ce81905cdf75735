"""migrate_safe on a real MariaDB: GET_LOCK between processes, the per-operation journal."""

from __future__ import annotations

import pytest
from django.db import connections
from django.db.migrations.recorder import MigrationRecorder

from django_deploykit.exit_codes import ExitCode
from django_deploykit.migrate_safe.journal import ensure_table
from django_deploykit.migrate_safe.timeouts import session_timeouts
from tests.commands import run_command
from tests.migrate_safe.conftest import url_for, use_graph
from tests.migrate_safe.processes import assert_one_of_two_runs_migrates, run_no_wait_while_another_migrates

pytestmark = pytest.mark.mysql


def columns(alias: str, table: str) -> list[str]:
    connection = connections[alias]
    with connection.cursor() as cursor:
        return sorted(c.name for c in connection.introspection.get_table_description(cursor, table))


def constraints(alias: str, table: str) -> list[str]:
    connection = connections[alias]
    with connection.cursor() as cursor:
        return sorted(connection.introspection.get_constraints(cursor, table))


@pytest.fixture
def half_applied(mysql_db: str) -> str:
    """ms_shop.0002_three_steps failed in its third operation, after two ALTER TABLEs."""
    with use_graph("half"):
        assert run_command("migrate_safe", "ms_shop", "0001", phase="all", database=mysql_db)[2] == 0
        with connections[mysql_db].cursor() as cursor:
            cursor.execute("INSERT INTO ms_shop_product (name) VALUES ('pen'), ('pen')")
        _, err, code = run_command("migrate_safe", phase="all", database=mysql_db)
    assert code == 1
    assert "ms_shop.0002_three_steps: operations 1\u20132 applied, 3 failed (" in err
    assert "Duplicate entry" in err
    assert "Run migrate_safe --resume to finish it, or --undo" in err
    return mysql_db


class JournalTests:
    def test_a_failure_between_operations_is_reported_and_blocks_the_next_run(
        self, half_applied: str
    ) -> None:
        assert columns(half_applied, "ms_shop_product") == ["colour", "id", "name", "size"]
        applied = MigrationRecorder(connections[half_applied]).applied_migrations()
        assert ("ms_shop", "0002_three_steps") not in applied
        with use_graph("half"):
            _, err, code = run_command("migrate_safe", phase="all", database=half_applied)
        assert code == ExitCode.HALF_APPLIED
        assert (
            "The database is between migrations: ms_shop.0002_three_steps: operations 1\u20132 applied, 3 failed"
            in err
        )

    def test_resume_runs_only_the_failed_rest(self, half_applied: str) -> None:
        with connections[half_applied].cursor() as cursor:
            cursor.execute(
                "DELETE FROM ms_shop_product WHERE id = (SELECT max(id) FROM (SELECT id FROM ms_shop_product) p)"
            )
        with use_graph("half"):
            out, err, code = run_command("migrate_safe", resume=True, database=half_applied)
            assert (code, err) == (0, "")
            assert "Applying ms_shop.0002_three_steps... OK" in out
            assert run_command("migrate_safe", check=True, database=half_applied)[2] == 0
        assert "unique_product_name" in constraints(half_applied, "ms_shop_product")
        with connections[half_applied].cursor() as cursor:
            cursor.execute("SELECT count(*) FROM deploykit_migration_journal")
            assert cursor.fetchone() == (0,)

    def test_undo_reverts_the_operations_that_ran(self, half_applied: str) -> None:
        with use_graph("half"):
            out, _, code = run_command("migrate_safe", undo=True, database=half_applied)
            assert code == 0
            assert "Undid ms_shop.0002_three_steps: operations 1\u20132 applied, 3 failed" in out
            # Pending again (and mixed: the constraint is destructive, the columns additive).
            assert (
                run_command("migrate_safe", check=True, database=half_applied)[2]
                == ExitCode.MIGRATIONS_BLOCKED
            )
        assert columns(half_applied, "ms_shop_product") == ["id", "name"]
        applied = MigrationRecorder(connections[half_applied]).applied_migrations()
        assert ("ms_shop", "0002_three_steps") not in applied

    def test_a_failed_backwards_run_can_be_undone_or_resumed(self, mysql_db: str) -> None:
        with use_graph("half"):
            assert run_command("migrate_safe", phase="all", database=mysql_db)[2] == 0
            fully_applied = (columns(mysql_db, "ms_shop_product"), constraints(mysql_db, "ms_shop_product"))
            # As a backwards run that undid operation 3 and then failed on operation 2 leaves it.
            ensure_table(connections[mysql_db])
            with connections[mysql_db].cursor() as cursor:
                cursor.execute("ALTER TABLE ms_shop_product DROP INDEX unique_product_name")
                cursor.execute(
                    "INSERT INTO deploykit_migration_journal (app, name, backwards, operation, status, error, at) "
                    "VALUES ('ms_shop', '0002_three_steps', 1, 3, 'done', '', NOW()), "
                    "('ms_shop', '0002_three_steps', 1, 2, 'failed', 'disk full', NOW())"
                )
            _, err, code = run_command("migrate_safe", phase="all", database=mysql_db)
            assert code == ExitCode.HALF_APPLIED
            assert "ms_shop.0002_three_steps: operations 3 undone, 2 failed (disk full)" in err
            assert run_command("migrate_safe", undo=True, database=mysql_db)[2] == 0
            assert (
                columns(mysql_db, "ms_shop_product"),
                constraints(mysql_db, "ms_shop_product"),
            ) == fully_applied
            assert run_command("migrate_safe", check=True, database=mysql_db)[2] == 0

    def test_resuming_a_failed_backwards_run_finishes_the_undo(self, mysql_db: str) -> None:
        with use_graph("half"):
            assert run_command("migrate_safe", phase="all", database=mysql_db)[2] == 0
            ensure_table(connections[mysql_db])
            with connections[mysql_db].cursor() as cursor:
                cursor.execute("ALTER TABLE ms_shop_product DROP INDEX unique_product_name")
                cursor.execute(
                    "INSERT INTO deploykit_migration_journal (app, name, backwards, operation, status, error, at) "
                    "VALUES ('ms_shop', '0002_three_steps', 1, 3, 'done', '', NOW())"
                )
            out, _, code = run_command("migrate_safe", resume=True, database=mysql_db)
            assert code == 0
            assert "Unapplying ms_shop.0002_three_steps... OK" in out
        assert columns(mysql_db, "ms_shop_product") == ["id", "name"]
        assert ("ms_shop", "0002_three_steps") not in MigrationRecorder(
            connections[mysql_db]
        ).applied_migrations()

    def test_an_operation_that_never_finished_is_reported(self, mysql_db: str) -> None:
        with use_graph("half"):
            assert run_command("migrate_safe", "ms_shop", "0001", phase="all", database=mysql_db)[2] == 0
            ensure_table(connections[mysql_db])
            with connections[mysql_db].cursor() as cursor:
                cursor.execute(
                    "INSERT INTO deploykit_migration_journal (app, name, backwards, operation, status, error, at) "
                    "VALUES ('ms_shop', '0002_three_steps', 0, 1, 'started', '', NOW())"
                )
            _, err, code = run_command("migrate_safe", phase="all", database=mysql_db)
        assert code == ExitCode.HALF_APPLIED
        assert (
            "ms_shop.0002_three_steps: operations none applied, 1 failed (the run stopped during it)" in err
        )

    def test_data_migrations_run_through_the_journal(self, mysql_db: str) -> None:
        phases = {"ms_shop.0003_setting_sql": "destructive"}
        with use_graph("markers", DEPLOYKIT_MIGRATION_PHASES=phases):
            out, err, code = run_command("migrate_safe", phase="all", database=mysql_db)
        assert (code, err) == (0, "")
        assert "Applying ms_shop.0002_marked_python... OK" in out
        assert "Applying ms_shop.0005_unmarked_sql... OK" in out

    def test_the_plan_warns_of_non_transactional_ddl(self, mysql_db: str) -> None:
        with use_graph("half"):
            out, _, _ = run_command("migrate_safe", plan=True, database=mysql_db)
        assert "hazard non-transactional: This database cannot roll DDL back" in out


class GetLockTests:
    def test_two_processes_at_once_exactly_one_migrates(self, mysql_db: str) -> None:
        assert_one_of_two_runs_migrates(url_for(mysql_db))

    def test_no_wait_fails_at_once(self, mysql_db: str) -> None:
        code, err, first_code = run_no_wait_while_another_migrates(url_for(mysql_db), mysql_db)
        assert (code, first_code) == (ExitCode.LOCK_BUSY, 0)
        assert "Another migrate_safe run holds the migration lock" in err

    def test_lock_wait_timeout_is_bounded_during_the_run(self, mysql_db: str) -> None:
        connection = connections[mysql_db]
        with session_timeouts(connection, 2.5, None), connection.cursor() as cursor:
            cursor.execute("SELECT @@SESSION.lock_wait_timeout")
            during = cursor.fetchone()
        with connection.cursor() as cursor:
            cursor.execute("SELECT @@SESSION.lock_wait_timeout")
            after = cursor.fetchone()
        assert during == (3,)
        assert after is not None
        assert after[0] > 3
