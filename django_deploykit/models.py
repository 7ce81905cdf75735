"""The console's permissions: a model with no table, so they can be granted in the admin like any other.

``managed = False`` and no migration: nothing is created in the database but the permissions themselves
(``post_migrate`` creates them, under migrate and migrate_safe alike), and the console needs no table that a
pending migration could change.
"""

from __future__ import annotations

from django.db import models

from django_deploykit.console.access import PERMISSIONS


class DeployConsole(models.Model):
    class Meta:
        managed = False
        default_permissions = ()
        permissions = PERMISSIONS
        verbose_name = "deploy console"

    def __str__(self) -> str:
        return "deploy console"
