from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import SimpleTestCase, override_settings

from django_deploykit import checks

PRODUCTION_CHOICE = {"mode": "production", "module": "mysite.settings.production", "reason": "test"}
DEVELOPMENT_CHOICE = {"mode": "development", "module": "mysite.settings.dev", "reason": "test"}


class ProductionDebugTests(SimpleTestCase):
    @override_settings(DEBUG=True, DEPLOYKIT_SETTINGS_CHOICE=PRODUCTION_CHOICE)
    def test_production_with_debug_is_an_error(self) -> None:
        assert [m.id for m in checks.check_production_debug()] == ["django_deploykit.E001"]
        assert checks.check_deploy_debug() == []

    @override_settings(DEBUG=False, DEPLOYKIT_SETTINGS_CHOICE=PRODUCTION_CHOICE)
    def test_production_without_debug(self) -> None:
        assert checks.check_production_debug() == []

    @override_settings(DEBUG=True, DEPLOYKIT_SETTINGS_CHOICE=DEVELOPMENT_CHOICE)
    def test_development_with_debug_is_fine_outside_deploy_checks(self) -> None:
        assert checks.check_production_debug() == []
        assert [m.id for m in checks.check_deploy_debug()] == ["django_deploykit.E002"]

    @override_settings(DEBUG=True, DEPLOYKIT_SETTINGS_CHOICE=PRODUCTION_CHOICE)
    def test_plain_check_command_fails(self) -> None:
        with pytest.raises(SystemCheckError, match="django_deploykit.E001"):
            call_command("check", stdout=StringIO(), stderr=StringIO())

    @override_settings(DEBUG=True, DEPLOYKIT_SETTINGS_CHOICE=DEVELOPMENT_CHOICE)
    def test_check_deploy_fails_without_fail_level(self) -> None:
        call_command("check", stdout=StringIO(), stderr=StringIO())
        with pytest.raises(SystemCheckError, match="django_deploykit.E002"):
            call_command("check", deploy=True, stdout=StringIO(), stderr=StringIO())


class SettingsChecksTests(SimpleTestCase):
    @override_settings(DEPLOYKIT_SLOT_NAMES=("blue", "blue"))
    def test_bad_slot_names(self) -> None:
        messages = checks.check_slot_names()
        assert [m.id for m in messages] == ["django_deploykit.E003"]
        assert "must differ" in messages[0].msg

    @override_settings(DEPLOYKIT_SLOT_NAMES=("dog", "cat"))
    def test_good_slot_names(self) -> None:
        assert checks.check_slot_names() == []

    def test_deploy_root(self) -> None:
        with override_settings(DEPLOYKIT_ROOT="/nonexistent/deploy/root"):
            assert [m.id for m in checks.check_deploy_root()] == ["django_deploykit.E004"]

    def test_deploy_root_without_shared(self) -> None:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            with override_settings(DEPLOYKIT_ROOT=tmp):
                assert [m.id for m in checks.check_deploy_root()] == ["django_deploykit.E005"]
            (Path(tmp) / "shared").mkdir()
            with override_settings(DEPLOYKIT_ROOT=tmp):
                assert checks.check_deploy_root() == []

    @override_settings(DEPLOYKIT_REQUIRE_DISPATCHER=True, DEPLOYKIT_SETTINGS_CHOICE=None)
    def test_dispatcher_not_used(self) -> None:
        assert [m.id for m in checks.check_dispatcher_used()] == ["django_deploykit.W001"]

    @override_settings(DEPLOYKIT_REQUIRE_DISPATCHER=True, DEPLOYKIT_SETTINGS_CHOICE=DEVELOPMENT_CHOICE)
    def test_dispatcher_used(self) -> None:
        assert checks.check_dispatcher_used() == []
