"""Internal to deploy_pull, swap_live and deploy: a slot's own deploy settings, as JSON."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from django_deploykit.deploy_root import slot_settings


class Command(BaseCommand):
    help = (
        "Used by deploy_pull, swap_live and deploy in each slot: prints the DEPLOYKIT_* settings that govern a "
        "deploy of this code (reload adapters, check URLs, pipeline), as JSON. Secrets are left out."
    )
    requires_system_checks: list[str] = []

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(json.dumps(slot_settings.current()))
