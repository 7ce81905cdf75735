from __future__ import annotations

from django.test import SimpleTestCase, override_settings

from django_deploykit.conf import DeployKitSettings, conf


class ConfTests(SimpleTestCase):
    def test_defaults(self) -> None:
        assert conf.ROOT is None
        assert conf.SLOT_NAMES == ("blue", "green")
        assert conf.SETTINGS_CHOICE is None

    @override_settings(DEPLOYKIT_SLOT_NAMES=("dog", "cat"))
    def test_override_settings_is_seen(self) -> None:
        assert conf.SLOT_NAMES == ("dog", "cat")

    def test_every_setting_is_prefixed_and_documented(self) -> None:
        declared = DeployKitSettings.declared()
        assert "DEPLOYKIT_ROOT" in declared
        for name, setting in declared.items():
            assert name.startswith("DEPLOYKIT_")
            assert setting.__doc__
