"""The deploy settings a slot reports about itself, as JSON between two interpreters."""

from __future__ import annotations

import json

from django_deploykit.deploy_root.slot_settings import REPORTED, SlotSettings, current


def test_the_typed_form_names_every_reported_setting() -> None:
    assert set(SlotSettings.__annotations__) == set(REPORTED)


def test_the_running_codes_settings_survive_json() -> None:
    reported = current()
    assert set(reported) == set(REPORTED)
    assert json.loads(json.dumps(reported)) == reported
