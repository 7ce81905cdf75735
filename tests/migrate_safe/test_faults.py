"""Faults injected into real migrate_safe runs: the process killed between a statement and its
journal entry, the database connection killed between and inside operations. After each: the
report, then ``--resume`` and, separately, ``--undo``, and the schema compared with plain ``migrate``."""

from __future__ import annotations

import json
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.executor import MigrationExecutor

from django_deploykit.exit_codes import ExitCode
from django_deploykit.migrate_safe import started
from django_deploykit.migrate_safe.locks import ADVISORY_KEY
from django_deploykit.migrate_safe.locks import mysql_name as mysql_lock_name
from tests.commands import run_command
from tests.json_fields import assert_documented
from tests.migrate_safe.conftest import SERVER_BACKENDS, url_for, use_graph
from tests.migrate_safe.faults import KILL_VARIABLE, STALL_VARIABLE
from tests.migrate_safe.processes import finish, start_migrate_safe
from tests.migrate_safe.test_schema_equivalence import schema

# A heavy fault or corpus test: it runs in one tox environment only (tox.ini says which).
pytestmark = pytest.mark.faults

RUN_TIMEOUT = 90


def plain_migrate(alias: str, graph: str, *target: str) -> dict[str, Any]:
    """The schema plain ``migrate`` leaves on the other database: everything, then back to ``target``."""
    with use_graph(graph):
        call_command("migrate", database=alias, verbosity=0)
        if target:
            call_command("migrate", *target, database=alias, verbosity=0)
    return schema(alias)


def finish_phase(alias: str, graph: str) -> None:
    """What follows --resume in a deploy: the rest of the phase."""
    with use_graph(graph):
        out, err, code = run_command("migrate_safe", phase="all", database=alias)
    assert (code, err) == (0, ""), out


def journal_rows(alias: str) -> list[tuple[Any, ...]]:
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "SELECT app, name, backwards, operation, status FROM deploykit_migration_journal ORDER BY id"
        )
        return list(cursor.fetchall())


def killed_run(alias: str, key: str, *args: str) -> None:
    """migrate_safe in its own process, SIGKILLed by the operation ``key`` once its SQL ran."""
    code, out, err = finish(
        start_migrate_safe(url_for(alias), "killed", *args, env={KILL_VARIABLE: key}), RUN_TIMEOUT
    )
    assert code == -signal.SIGKILL, (code, out, err)


@pytest.mark.mysql
class KilledBeforeTheJournalEntryTests:
    """Defect 11: MariaDB DDL is not transactional; a kill after a statement and before its journal
    entry leaves the operation "started" though it took effect."""

    def test_resume_finds_the_index_made_and_goes_on(self, mysql_db: str, mysql_db_b: str) -> None:
        killed_run(mysql_db, "index", "--phase=all")
        assert journal_rows(mysql_db)[-1] == ("ms_shop", "0002_four_steps", 0, 2, "started")
        with use_graph("killed"):
            _, err, code = run_command("migrate_safe", phase="all", database=mysql_db)
            assert code == ExitCode.HALF_APPLIED
            assert (
                "ms_shop.0002_four_steps: operations 1 applied, 2 failed (the run stopped during it)" in err
            )
            out, err, code = run_command("migrate_safe", resume=True, database=mysql_db)
        assert (code, err) == (0, "")
        assert (
            "ms_shop.0002_four_steps operation 2 (Create index product_name_idx on field(s) name of model "
            "product) was left started by a run that stopped; the schema shows it took effect." in out
        )
        assert journal_rows(mysql_db) == []
        finish_phase(mysql_db, "killed")
        assert schema(mysql_db) == plain_migrate(mysql_db_b, "killed")

    def test_undo_reverts_the_index_made(self, mysql_db: str, mysql_db_b: str) -> None:
        killed_run(mysql_db, "index", "--phase=all")
        with use_graph("killed"):
            out, err, code = run_command("migrate_safe", undo=True, database=mysql_db, format="json")
        assert (code, err) == (0, "")
        document = json.loads(out)
        assert_documented(document, "migrate_safe.md", "`migrate_safe --resume` and `--undo`")
        assert document["settled"] == [
            "ms_shop.0002_four_steps operation 2 (Create index product_name_idx on field(s) name of model "
            "product) was left started by a run that stopped; the schema shows it took effect."
        ]
        with use_graph("killed"):
            assert (
                run_command("migrate_safe", check=True, database=mysql_db)[2] == ExitCode.MIGRATIONS_PENDING
            )
        assert schema(mysql_db) == plain_migrate(mysql_db_b, "killed", "ms_shop", "0001")
        assert journal_rows(mysql_db) == []

    def test_resume_finds_the_table_created_and_goes_on(self, mysql_db: str, mysql_db_b: str) -> None:
        # As auth.0001 and auth_user: before, "Table 'ms_stock_stock' already exists".
        killed_run(mysql_db, "create", "--phase=all")
        with use_graph("killed"):
            out, err, code = run_command("migrate_safe", resume=True, database=mysql_db)
        assert (code, err) == (0, "")
        assert "ms_stock.0001_initial operation 1 (Create model Stock) was left started" in out
        finish_phase(mysql_db, "killed")
        assert schema(mysql_db) == plain_migrate(mysql_db_b, "killed")

    def test_undo_drops_the_table_created(self, mysql_db: str, mysql_db_b: str) -> None:
        killed_run(mysql_db, "create", "--phase=all")
        with use_graph("killed"):
            _, err, code = run_command("migrate_safe", undo=True, database=mysql_db)
        assert (code, err) == (0, "")
        assert "ms_stock_stock" not in schema(mysql_db)
        assert schema(mysql_db) == plain_migrate(mysql_db_b, "killed", "ms_stock", "zero")
        assert journal_rows(mysql_db) == []

    def test_an_operation_killed_before_it_took_effect_runs_again(
        self, mysql_db: str, mysql_db_b: str
    ) -> None:
        killed_run(mysql_db, "index", "--phase=all")
        # As a kill while the statement was still waiting for its lock: the index never came.
        with connections[mysql_db].cursor() as cursor:
            cursor.execute("DROP INDEX product_name_idx ON ms_shop_product")
        with use_graph("killed"):
            out, err, code = run_command("migrate_safe", resume=True, database=mysql_db)
        assert (code, err) == (0, "")
        assert "operation 2 (Create index product_name_idx on field(s) name of model product)" in out
        assert "the schema shows it did not take effect" in out
        finish_phase(mysql_db, "killed")
        assert schema(mysql_db) == plain_migrate(mysql_db_b, "killed")

    def test_raw_sql_that_cannot_be_decided_is_refused_with_what_to_check(
        self, mysql_db: str, mysql_db_b: str
    ) -> None:
        killed_run(mysql_db, "sql", "--phase=all")
        before = journal_rows(mysql_db)
        with use_graph("killed"):
            for action in ("resume", "undo"):
                _, err, code = run_command("migrate_safe", **{action: True}, database=mysql_db)
                assert code == ExitCode.HALF_APPLIED, err
                assert "ms_shop.0002_four_steps operation 4 (Raw SQL operation) was left started" in err
                assert "CREATE TABLE ms_shop_note (id integer PRIMARY KEY)" in err
                assert "migrate_safe --resume --started=applied" in err
                assert "--started=not-applied" in err
                assert journal_rows(mysql_db) == before
            _, err, code = run_command("migrate_safe", resume=True, started="applied", database=mysql_db)
        assert (code, err) == (0, "")
        finish_phase(mysql_db, "killed")
        assert schema(mysql_db) == plain_migrate(mysql_db_b, "killed")

    def test_an_operation_that_took_effect_in_part_is_refused(self, mysql_db: str, mysql_db_b: str) -> None:
        killed_run(mysql_db, "create", "--phase=all")
        # As a kill between CREATE TABLE and its deferred foreign key.
        with connections[mysql_db].cursor() as cursor:
            constraint = next(
                name
                for name, c in connections[mysql_db]
                .introspection.get_constraints(cursor, "ms_stock_stock")
                .items()
                if c["foreign_key"]
            )
            cursor.execute(f"ALTER TABLE ms_stock_stock DROP FOREIGN KEY {constraint}")
        before = journal_rows(mysql_db)
        with use_graph("killed"):
            _, err, code = run_command("migrate_safe", resume=True, database=mysql_db)
            assert code == ExitCode.HALF_APPLIED
            assert (
                "ms_stock.0001_initial operation 1 (Create model Stock) was left started by a run that stopped, "
                "and the schema cannot tell whether it took effect: it took effect only in part: the schema has "
                in err
            )
            assert "lacks foreign key ms_stock_stock.product_id -> ms_shop_product" in err
            assert "CREATE TABLE `ms_stock_stock`" in err
            assert "'migrate_safe --undo --started=applied --database migrate_safe_mysql' reverts it" in err
            assert journal_rows(mysql_db) == before
            # Undoing what took effect is the way out: dropping the table drops the part that exists.
            _, err, code = run_command("migrate_safe", undo=True, started="applied", database=mysql_db)
        assert (code, err) == (0, "")
        assert schema(mysql_db) == plain_migrate(mysql_db_b, "killed", "ms_stock", "zero")

    def test_started_without_an_operation_left_started_changes_nothing(self, mysql_db: str) -> None:
        killed_run(mysql_db, "index", "--phase=all")
        with connections[mysql_db].cursor() as cursor:
            cursor.execute(
                "UPDATE deploykit_migration_journal SET status = 'failed' WHERE status = 'started'"
            )
        before = (journal_rows(mysql_db), schema(mysql_db))
        with use_graph("killed"):
            _, err, code = run_command("migrate_safe", undo=True, started="applied", database=mysql_db)
        assert code == 1
        assert "--started answers for an operation left started, and the journal shows none." in err
        assert (journal_rows(mysql_db), schema(mysql_db)) == before

    def test_undo_with_the_operators_verdict(self, mysql_db: str, mysql_db_b: str) -> None:
        killed_run(mysql_db, "sql", "--phase=all")
        with use_graph("killed"):
            _, err, code = run_command("migrate_safe", undo=True, started="applied", database=mysql_db)
        assert (code, err) == (0, "")
        assert schema(mysql_db) == plain_migrate(mysql_db_b, "killed", "ms_shop", "0001")

    def test_a_kill_during_a_backwards_run(self, mysql_db: str, mysql_db_b: str) -> None:
        with use_graph("killed"):
            assert run_command("migrate_safe", phase="all", database=mysql_db)[2] == 0
        killed_run(mysql_db, "index:backwards", "ms_shop", "0001", "--phase=all")
        with use_graph("killed"):
            out, err, code = run_command("migrate_safe", undo=True, database=mysql_db)
            assert (code, err) == (0, ""), out
        assert (
            "operation 2 (Create index product_name_idx on field(s) name of model product), being undone,"
            in out
        )
        # The run had unapplied ms_stock.0001 before it was killed in ms_shop.0002.
        assert schema(mysql_db) == plain_migrate(mysql_db_b, "killed", "ms_stock", "zero")
        killed_run(mysql_db, "index:backwards", "ms_shop", "0001", "--phase=all")
        with use_graph("killed"):
            out, err, code = run_command("migrate_safe", resume=True, database=mysql_db)
            assert (code, err) == (0, ""), out
            call_command("migrate", "ms_shop", "0001", database=mysql_db_b, verbosity=0)
        assert schema(mysql_db) == schema(mysql_db_b)


def migrating_session(alias: str) -> int | None:
    """The server session of the migrate_safe run that holds the migration lock of ``alias``."""
    connection = connections[alias]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid::bigint = %s "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                [ADVISORY_KEY],
            )
        else:
            cursor.execute("SELECT IS_USED_LOCK(%s)", [mysql_lock_name(connection)])
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] is not None else None


def waits_for_a_lock(alias: str, session: int) -> bool:
    connection = connections[alias]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT 1 FROM pg_stat_activity WHERE pid = %s AND wait_event_type = 'Lock'", [session]
            )
        else:
            cursor.execute(
                "SELECT 1 FROM information_schema.PROCESSLIST WHERE ID = %s AND STATE LIKE %s",
                [session, "%metadata lock%"],
            )
        return cursor.fetchone() is not None


def kill_session(alias: str, session: int) -> None:
    """What a DBA, a failover or a proxy does to the migrating connection."""
    connection = connections[alias]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_terminate_backend(%s)", [session])
        else:
            cursor.execute(f"KILL {int(session)}")


def wait_for(predicate: Callable[[], Any], what: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {timeout}s")


def hold_table(alias: str) -> BaseDatabaseWrapper:
    """A second session that read ms_shop_product in a transaction it leaves open: DDL on the table waits."""
    blocker = connections.create_connection(alias)
    with blocker.cursor() as cursor:
        cursor.execute("BEGIN")
        cursor.execute("SELECT count(*) FROM ms_shop_product")
    return blocker


def kill_connection_between(alias: str, tmp_path: Path, graph: str = "stalls") -> tuple[int, str, str]:
    """The connection killed while ms_shop.0002's RunPython (operation 2) runs, after the AddField."""
    marker = tmp_path / "stalled"
    process = start_migrate_safe(url_for(alias), graph, "--phase=all", env={STALL_VARIABLE: str(marker)})
    try:
        wait_for(marker.exists, "the stall")
        kill_session(alias, wait_for(lambda: migrating_session(alias), "the migration lock"))
    finally:
        marker.unlink(missing_ok=True)
    return finish(process, RUN_TIMEOUT)


def kill_connection_inside(alias: str) -> tuple[int, str, str]:
    """The connection killed while ms_shop.0002's AddField (operation 1) waits for its lock."""
    with use_graph("stalls"):
        assert run_command("migrate_safe", "ms_shop", "0001", phase="all", database=alias)[2] == 0
    blocker = hold_table(alias)
    process = start_migrate_safe(url_for(alias), "stalls", "--phase=all", "--lock-timeout=60s")
    try:
        session = wait_for(lambda: migrating_session(alias), "the migration lock")
        wait_for(lambda: waits_for_a_lock(alias, session), "the wait for the table lock")
        kill_session(alias, session)
    finally:
        with blocker.cursor() as cursor:
            cursor.execute("ROLLBACK")
        blocker.close()
    return finish(process, RUN_TIMEOUT)


def assert_reported(result: tuple[int, str, str], *sentences: str) -> None:
    code, out, err = result
    assert code == 1, (code, out, err)
    assert "Traceback" not in err, err
    for sentence in sentences:
        assert sentence in err, err


@pytest.mark.mysql
class MariaDBConnectionKilledTests:
    """Defect 12 and the fault tests: KILL of migrate_safe's connection, between and inside operations."""

    between = (
        "ms_shop.0002_three_steps: operations 1 applied; operation 2 (Raw Python operation) was running when "
        "the connection to the database was lost"
    )
    inside = (
        "ms_shop.0002_three_steps: operations none applied; operation 1 (Add field colour to product) was "
        "running when the connection to the database was lost"
    )
    what_next = "Run migrate_safe --resume to finish it, or --undo to revert the operations that ran."

    def test_between_operations_then_resume(self, mysql_db: str, mysql_db_b: str, tmp_path: Path) -> None:
        assert_reported(kill_connection_between(mysql_db, tmp_path), self.between, self.what_next)
        with use_graph("stalls"):
            out, err, code = run_command("migrate_safe", resume=True, database=mysql_db)
        assert (code, err) == (0, ""), out
        assert (
            "operation 2 (Raw Python operation) was left started by a run that stopped; it changes data"
            in out
        )
        finish_phase(mysql_db, "stalls")
        assert schema(mysql_db) == plain_migrate(mysql_db_b, "stalls")

    def test_between_operations_then_undo(self, mysql_db: str, mysql_db_b: str, tmp_path: Path) -> None:
        assert_reported(kill_connection_between(mysql_db, tmp_path), self.between)
        with use_graph("stalls"):
            out, err, code = run_command("migrate_safe", undo=True, database=mysql_db)
        assert (code, err) == (0, ""), out
        assert schema(mysql_db) == plain_migrate(mysql_db_b, "stalls", "ms_shop", "0001")

    def test_python_code_outside_a_transaction_is_left_to_the_operator(
        self, mysql_db: str, mysql_db_b: str, tmp_path: Path
    ) -> None:
        assert_reported(
            kill_connection_between(mysql_db, tmp_path, "stalls_outside"),
            "ms_shop.0002_three_steps: operations 1 applied; operation 2 (Raw Python operation) ran, but the "
            "connection to the database was lost before the journal recorded it",
            self.what_next,
        )
        with use_graph("stalls_outside"):
            _, err, code = run_command("migrate_safe", resume=True, database=mysql_db)
            assert code == ExitCode.HALF_APPLIED
            assert "To settle it, it runs Python code (stall) that cannot be shown as SQL" in err
            out, err, code = run_command("migrate_safe", resume=True, started="applied", database=mysql_db)
        assert (code, err) == (0, ""), out
        assert "as --started=applied says, it took effect" in out
        finish_phase(mysql_db, "stalls_outside")
        assert schema(mysql_db) == plain_migrate(mysql_db_b, "stalls_outside")

    def test_inside_a_ddl_operation_then_resume(self, mysql_db: str, mysql_db_b: str) -> None:
        assert_reported(kill_connection_inside(mysql_db), self.inside, self.what_next)
        with use_graph("stalls"):
            out, err, code = run_command("migrate_safe", resume=True, database=mysql_db)
        assert (code, err) == (0, ""), out
        assert "operation 1 (Add field colour to product) was left started" in out
        assert "the schema shows it did not take effect" in out
        finish_phase(mysql_db, "stalls")
        assert schema(mysql_db) == plain_migrate(mysql_db_b, "stalls")

    def test_inside_a_ddl_operation_then_undo(self, mysql_db: str, mysql_db_b: str) -> None:
        assert_reported(kill_connection_inside(mysql_db), self.inside)
        with use_graph("stalls"):
            out, err, code = run_command("migrate_safe", undo=True, database=mysql_db)
        assert (code, err) == (0, ""), out
        assert schema(mysql_db) == plain_migrate(mysql_db_b, "stalls", "ms_shop", "0001")


@pytest.mark.postgresql
class PostgreSQLConnectionKilledTests:
    """pg_terminate_backend of migrate_safe's connection: the migration rolls back whole."""

    rolled_back = (
        "ms_shop.0002_three_steps was rolled back: nothing of it was applied. Run migrate_safe again"
    )

    def test_between_operations_then_run_again(
        self, postgres_db: str, postgres_db_b: str, tmp_path: Path
    ) -> None:
        assert_reported(
            kill_connection_between(postgres_db, tmp_path),
            "ms_shop.0002_three_steps failed:",
            self.rolled_back,
        )
        finish_phase(postgres_db, "stalls")
        assert schema(postgres_db) == plain_migrate(postgres_db_b, "stalls")

    def test_between_operations_then_undo(self, postgres_db: str, postgres_db_b: str, tmp_path: Path) -> None:
        assert_reported(kill_connection_between(postgres_db, tmp_path), self.rolled_back)
        with use_graph("stalls"):
            _, err, code = run_command("migrate_safe", undo=True, database=postgres_db)
        assert code == 1
        assert "The journal shows no half-applied migration; there is nothing to resume or undo." in err
        assert schema(postgres_db) == plain_migrate(postgres_db_b, "stalls", "ms_shop", "0001")

    def test_inside_a_ddl_operation_then_run_again(self, postgres_db: str, postgres_db_b: str) -> None:
        assert_reported(
            kill_connection_inside(postgres_db), "ms_shop.0002_three_steps failed:", self.rolled_back
        )
        finish_phase(postgres_db, "stalls")
        assert schema(postgres_db) == plain_migrate(postgres_db_b, "stalls")

    def test_inside_a_ddl_operation_then_undo(self, postgres_db: str, postgres_db_b: str) -> None:
        assert_reported(kill_connection_inside(postgres_db), self.rolled_back)
        with use_graph("stalls"):
            assert run_command("migrate_safe", undo=True, database=postgres_db)[2] == 1
        assert schema(postgres_db) == plain_migrate(postgres_db_b, "stalls", "ms_shop", "0001")


def two_runs_meet(alias: str) -> tuple[int, tuple[int, str, str], tuple[int, str, str]]:
    """A run that holds the migration lock a while; meanwhile one with --no-wait and one that waits.
    Returns the holder's pid and what the two others said."""
    url = url_for(alias)
    first = start_migrate_safe(url, "slow", "--phase=all", sleep=6)
    try:
        wait_for(lambda: "ms_shop_product" in connections[alias].introspection.table_names(), "the first run")
        refused = finish(start_migrate_safe(url, "slow", "--phase=all", "--no-wait"), RUN_TIMEOUT)
        waited = finish(start_migrate_safe(url, "slow", "--phase=all"), RUN_TIMEOUT)
    finally:
        first_code, out, err = finish(first, RUN_TIMEOUT)
    assert first_code == 0, (out, err)
    return first.pid, refused, waited


class LockHolderTests:
    """Defect 14: the run that gives up or waits names the holder (pid, host, command), as the deploy lock does."""

    def check(self, alias: str, session: str) -> None:
        pid, (code, _, err), (waited_code, waited_out, _) = two_runs_meet(alias)
        holder = f"migrate_safe pid {pid} on {socket.gethostname()}: --phase=all"
        assert code == ExitCode.LOCK_BUSY
        assert "Another migrate_safe run holds the migration lock of this database: " + holder in err
        assert session in err
        assert waited_code == 0
        assert "Another migrate_safe run holds the migration lock of this database: " + holder in waited_out
        assert "waiting for it to finish" in waited_out

    @pytest.mark.parametrize("database", SERVER_BACKENDS, indirect=True)
    def test_the_holder_is_named(self, database: str) -> None:
        session = {"postgresql": "(PostgreSQL backend ", "mysql": "(MariaDB connection "}
        self.check(database, session[connections[database].vendor])


@pytest.mark.mysql
class DecideTests:
    def test_each_operation_of_a_real_auth_0001_is_seen_applied_or_not(self, mysql_db: str) -> None:
        """What --resume decides for auth.0001 (auth_user, its many-to-many tables) at either end."""
        connection = connections[mysql_db]
        with use_graph("killed"):
            call_command("migrate", "auth", "0001", database=mysql_db, verbosity=0)
            executor = MigrationExecutor(connection)
            migration = executor.loader.get_migration("auth", "0001_initial")
            state = executor.loader.project_state(("auth", "0001_initial"), at_end=False)
            steps = []
            for op in migration.operations:
                before = state.clone()
                op.state_forwards("auth", state)
                steps.append((op, before, state.clone()))
            applied = [started.decide(connection, migration, op, a, b).verdict for op, a, b in steps]
            undone = [started.decide(connection, migration, op, b, a).verdict for op, a, b in steps]
        assert applied == [started.APPLIED] * len(steps)
        assert undone == [started.NOT_APPLIED] * len(steps)
