"""Override layers, highest first: Migration.deploy_phase, DEPLOYKIT_MIGRATION_PHASES, contrib verdicts, rules."""

from __future__ import annotations

import pytest
from django.db import connections
from django.test.utils import override_settings

from django_deploykit.migrate_safe.checks import check_migration_phases, check_timeouts
from django_deploykit.migrate_safe.planning import PhasePlan, pending_for_leaves
from django_deploykit.migrate_safe.verdicts import InvalidPhaseOverride
from tests.migrate_safe.conftest import previous_release, use_graph

SETTING = {"ms_shop.0003_setting_sql": "destructive", "ms_shop.0004_marker_beats_rules": "destructive"}


def by_label(plan: PhasePlan) -> dict[str, tuple[str, str]]:
    return {v.label: (v.phase, v.source) for v in plan.migrations}


class OverrideTests:
    def test_marker_setting_and_rules_in_their_order(self, sqlite_db: str) -> None:
        with use_graph("markers", DEPLOYKIT_MIGRATION_PHASES=SETTING):
            previous_release(sqlite_db)
            plan = pending_for_leaves(connections[sqlite_db])
        found = by_label(plan)
        assert found["ms_shop.0002_marked_python"] == ("additive", "marker")
        assert found["ms_shop.0003_setting_sql"] == ("destructive", "setting")
        # The marker wins over both the setting and the rule (RemoveField is destructive).
        assert found["ms_shop.0004_marker_beats_rules"] == ("additive", "marker")
        assert found["ms_shop.0005_unmarked_sql"] == ("unclassified", "rules")

    def test_without_the_setting_raw_sql_is_unclassified(self, sqlite_db: str) -> None:
        with use_graph("markers"):
            previous_release(sqlite_db)
            plan = pending_for_leaves(connections[sqlite_db])
        assert by_label(plan)["ms_shop.0003_setting_sql"] == ("unclassified", "rules")

    def test_contrib_migrations_deploy_without_configuration(self, sqlite_db: str) -> None:
        with use_graph("markers"):
            # The previous release ran on Django's first migrations of these apps.
            previous_release(
                sqlite_db, ("contenttypes", "0001_initial"), ("auth", "0005_alter_user_last_login_null")
            )
            plan = pending_for_leaves(connections[sqlite_db])
        contrib = {label: value for label, value in by_label(plan).items() if not label.startswith("ms_")}
        assert contrib
        assert set(contrib.values()) == {("additive", "contrib")}
        # The rules alone would hold these back: a RemoveField, and a RunPython.
        rules = {v.label: {op.phase for op in v.operations} for v in plan.migrations}
        assert "destructive" in rules["contenttypes.0002_remove_content_type_name"]
        assert rules["auth.0011_update_proxy_permissions"] == {"unknown"}

    def test_the_setting_overrides_a_contrib_verdict(self, sqlite_db: str) -> None:
        phases = {"contenttypes.0002_remove_content_type_name": "destructive"}
        with use_graph("markers", DEPLOYKIT_MIGRATION_PHASES=phases):
            previous_release(sqlite_db, ("contenttypes", "0001_initial"))
            plan = pending_for_leaves(connections[sqlite_db])
        assert by_label(plan)["contenttypes.0002_remove_content_type_name"] == ("destructive", "setting")

    def test_an_invalid_marker_is_an_error_with_the_fix(self, sqlite_db: str) -> None:
        with (
            use_graph("bad_marker"),
            pytest.raises(InvalidPhaseOverride, match="set it to 'additive' or 'destructive'"),
        ):
            pending_for_leaves(connections[sqlite_db])

    def test_an_invalid_setting_is_an_error(self, sqlite_db: str) -> None:
        with (
            use_graph("markers", DEPLOYKIT_MIGRATION_PHASES={"ms_shop": "later"}),
            pytest.raises(InvalidPhaseOverride, match="not of the form 'app_label.migration_name'"),
        ):
            pending_for_leaves(connections[sqlite_db])


class SettingsCheckTests:
    def test_valid_settings_pass(self) -> None:
        assert check_migration_phases() == []
        assert check_timeouts() == []

    @override_settings(DEPLOYKIT_MIGRATION_PHASES={"app.0001_x": "sometime", "bad": "additive"})
    def test_bad_phase_map_is_e030(self) -> None:
        errors = check_migration_phases()
        assert [e.id for e in errors] == ["django_deploykit.E030", "django_deploykit.E030"]
        assert "'app.0001_x' maps to 'sometime'" in errors[0].msg

    @override_settings(
        DEPLOYKIT_MIGRATE_LOCK_TIMEOUT="soon", DEPLOYKIT_MIGRATE_RETRIES=-1, DEPLOYKIT_MIGRATE_RETRY_DELAY="x"
    )
    def test_bad_timeouts_and_retries(self) -> None:
        assert [e.id for e in check_timeouts()] == [
            "django_deploykit.E031",
            "django_deploykit.E032",
            "django_deploykit.E033",
        ]

    @override_settings(DEPLOYKIT_MIGRATE_STATEMENT_TIMEOUT="25h", DEPLOYKIT_MIGRATE_RETRIES=11)
    def test_a_timeout_over_a_day_and_too_many_retries(self) -> None:
        errors = check_timeouts()
        assert [e.id for e in errors] == ["django_deploykit.E031", "django_deploykit.E032"]
        assert "is too long; the longest is 1 day" in errors[0].msg
        assert "from 0 to 10" in errors[1].msg
