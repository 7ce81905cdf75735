"""--roundtrip on a throwaway test database: forwards, backwards, forwards per migration."""

from __future__ import annotations

import json

import pytest
from django.db import connections

from django_deploykit.exit_codes import ExitCode
from tests.commands import run_command
from tests.json_fields import assert_documented
from tests.migrate_safe.conftest import use_graph


class RoundtripTests:
    def test_a_clean_graph_passes_and_the_project_database_is_untouched(self, sqlite_db: str) -> None:
        with use_graph("expand"):
            out, err, code = run_command("migrate_safe", roundtrip=True, database=sqlite_db)
        assert (code, err) == (0, "")
        assert "  ms_shop.0003_remove_legacy: forwards, backwards, forwards OK" in out
        assert "Every migration survived forwards, backwards, forwards." in out
        assert connections[sqlite_db].introspection.table_names() == []

    def test_reports_a_backwards_that_leaves_schema_behind_and_one_that_fails(self, sqlite_db: str) -> None:
        with use_graph("roundtrip_bad"):
            _, err, code = run_command("migrate_safe", "ms_shop", roundtrip=True, database=sqlite_db)
        assert code == ExitCode.ROUNDTRIP_FAILED
        assert (
            "ms_shop.0002_index_left_behind: backwards does not restore the schema: "
            "ms_shop_product keeps constraints product_name_x"
        ) in err
        assert "ms_shop.0003_reverse_fails: backwards fails: no such table: no_such_table" in err

        with use_graph("roundtrip_bad"):
            out, err, code = run_command(
                "migrate_safe", "ms_shop", roundtrip=True, database=sqlite_db, format="json"
            )
        report = json.loads(out)
        assert (code, err) == (ExitCode.ROUNDTRIP_FAILED, "")
        assert_documented(report, "migrate_safe.md", "`migrate_safe --roundtrip`")
        assert report["exit_code"] == ExitCode.ROUNDTRIP_FAILED
        assert len(report["problems"]) == 2

    @pytest.mark.postgresql
    def test_on_postgresql(self, postgres_db: str) -> None:
        with use_graph("roundtrip_bad"):
            _, err, code = run_command("migrate_safe", "ms_shop", roundtrip=True, database=postgres_db)
        assert code == ExitCode.ROUNDTRIP_FAILED
        assert "ms_shop.0002_index_left_behind: backwards does not restore the schema" in err
        assert 'table "no_such_table" does not exist' in err
        assert connections[postgres_db].introspection.table_names() == []

    @pytest.mark.mysql
    def test_on_mariadb(self, mysql_db: str) -> None:
        with use_graph("expand"):
            out, _, code = run_command("migrate_safe", roundtrip=True, database=mysql_db)
        assert code == 0, out
        assert connections[mysql_db].introspection.table_names() == []
