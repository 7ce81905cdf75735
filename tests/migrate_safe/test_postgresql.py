"""migrate_safe on a real PostgreSQL: lock timeouts, retries naming the blocker, the advisory lock."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

from django_deploykit.exit_codes import ExitCode
from tests.commands import run_command
from tests.migrate_safe.conftest import url_for, use_graph
from tests.migrate_safe.processes import assert_one_of_two_runs_migrates, run_no_wait_while_another_migrates

pytestmark = pytest.mark.postgresql


@pytest.fixture
def product_table(postgres_db: str) -> Iterator[str]:
    with use_graph("expand"):
        assert run_command("migrate_safe", "ms_shop", "0001", phase="additive", database=postgres_db)[2] == 0
        yield postgres_db


def hold_read_lock(alias: str, query: str = "SELECT count(*) FROM ms_shop_product") -> BaseDatabaseWrapper:
    """A second session that read the table in a transaction it leaves open (idle in transaction)."""
    blocker = connections.create_connection(alias)
    with blocker.cursor() as cursor:
        cursor.execute("BEGIN")
        cursor.execute(query)
    return blocker


def release(blocker: BaseDatabaseWrapper) -> None:
    with blocker.cursor() as cursor:
        cursor.execute("ROLLBACK")
    blocker.close()


class LockTimeoutTests:
    def test_times_out_retries_and_names_the_blocker(self, product_table: str) -> None:
        # The blocker's query is printed, with any URL password in it masked.
        blocker = hold_read_lock(
            product_table,
            "SELECT count(*) FROM ms_shop_product WHERE name <> 'postgres://app:hunter2@db/app'",
        )
        try:
            with use_graph("expand", DEPLOYKIT_MIGRATE_RETRY_DELAY=0.1):
                out, err, code = run_command(
                    "migrate_safe",
                    "ms_shop",
                    "0002",
                    phase="additive",
                    lock_timeout="1s",
                    retries=2,
                    database=product_table,
                )
                applied = run_command("migrate_safe", "ms_shop", "0002", check=True, database=product_table)[
                    2
                ]
        finally:
            release(blocker)
        assert code == 1
        assert "retry 1 of 2 in 0.1s" in out
        assert "retry 2 of 2 in 0.2s" in out
        assert (
            "ms_shop.0002_product_colour could not take its locks within the lock timeout after 2 retries"
            in err
        )
        assert (
            "(idle in transaction): SELECT count(*) FROM ms_shop_product WHERE name <> 'postgres://app:***@db/app'"
            in err
        )
        assert "ms_shop.0002_product_colour was rolled back" in err
        assert applied == ExitCode.MIGRATIONS_PENDING  # nothing of it was applied

    def test_a_retry_succeeds_once_the_blocker_ends(self, product_table: str) -> None:
        blocker = hold_read_lock(product_table)
        # The blocker's connection belongs to this thread; end it from here after a while.
        timer_done = threading.Event()

        def end_later() -> None:
            time.sleep(1.5)
            timer_done.set()

        threading.Thread(target=end_later, daemon=True).start()
        with use_graph("expand", DEPLOYKIT_MIGRATE_RETRY_DELAY=1.0):
            result: dict[str, tuple[str, str, int]] = {}
            runner = threading.Thread(
                target=lambda: result.setdefault(
                    "run",
                    run_command(
                        "migrate_safe",
                        "ms_shop",
                        "0002",
                        phase="additive",
                        lock_timeout="1s",
                        retries=3,
                        database=product_table,
                    ),
                )
            )
            runner.start()
            timer_done.wait()
            release(blocker)
            runner.join()
        out, err, code = result["run"]
        assert (code, err) == (0, "")
        assert "lock timeout, blocked by pid" in out
        assert "retry 1 of 3" in out
        assert "Applying ms_shop.0002_product_colour... OK" in out

    def test_a_non_atomic_migration_is_not_retried(self, postgres_db: str) -> None:
        with use_graph("nonatomic"):
            assert (
                run_command("migrate_safe", "ms_shop", "0001", phase="additive", database=postgres_db)[2] == 0
            )
            blocker = hold_read_lock(postgres_db)
            try:
                out, err, code = run_command(
                    "migrate_safe", phase="additive", lock_timeout="1s", retries=3, database=postgres_db
                )
            finally:
                release(blocker)
        assert code == 1
        assert "retry" not in out
        assert "ms_shop.0002_colour_not_atomic hit the lock timeout (blocked by pid" in err
        assert "It is not atomic, so it was not retried" in err

    def test_statement_timeout_stops_a_long_statement_without_retrying(self, postgres_db: str) -> None:
        with use_graph("sleepy_sql"):
            out, err, code = run_command(
                "migrate_safe", phase="additive", statement_timeout="300ms", database=postgres_db
            )
            pending = run_command("migrate_safe", "ms_shop", "0002", check=True, database=postgres_db)[2]
        assert code == 1
        assert (
            "ms_shop.0002_sleep failed: canceling statement due to statement timeout. ms_shop.0002_sleep was "
            "rolled back: nothing of it was applied. Run migrate_safe again to apply it. Applied before it"
            in err
        )
        assert err.rstrip().endswith("ms_shop.0001_initial.")
        assert "retry" not in out
        assert pending == ExitCode.MIGRATIONS_PENDING

    def test_timeouts_are_reset_after_the_run(self, product_table: str) -> None:
        with use_graph("expand"):
            assert (
                run_command(
                    "migrate_safe",
                    "ms_shop",
                    "0002",
                    phase="additive",
                    lock_timeout="1s",
                    database=product_table,
                )[2]
                == 0
            )
        with connections[product_table].cursor() as cursor:
            cursor.execute("SHOW lock_timeout")
            assert cursor.fetchone() == ("0",)


class AdvisoryLockTests:
    def test_two_processes_at_once_exactly_one_migrates(self, postgres_db: str) -> None:
        assert_one_of_two_runs_migrates(url_for(postgres_db))

    def test_no_wait_fails_at_once_with_its_own_exit_code(self, postgres_db: str) -> None:
        code, err, first_code = run_no_wait_while_another_migrates(url_for(postgres_db), postgres_db)
        assert code == ExitCode.LOCK_BUSY
        assert "Another migrate_safe run holds the migration lock" in err
        assert first_code == 0
