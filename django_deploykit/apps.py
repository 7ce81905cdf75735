from __future__ import annotations

from django.apps import AppConfig


class DeployKitConfig(AppConfig):
    name = "django_deploykit"
    verbose_name = "django-deploykit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django_deploykit import checks
        from django_deploykit.deploy_root import revision

        checks.register_all()
        revision.capture_running()
