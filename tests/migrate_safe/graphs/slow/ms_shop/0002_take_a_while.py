from __future__ import annotations

import os
import time

from django.db import migrations


def take_a_while(apps, schema_editor):  # type: ignore[no-untyped-def]
    # Long enough for a second migrate_safe process to start and meet the lock.
    time.sleep(float(os.environ.get("MIGRATE_SAFE_TEST_SLEEP", "3")))


class Migration(migrations.Migration):
    deploy_phase = "additive"
    dependencies = [("ms_shop", "0001_initial")]

    operations = [migrations.RunPython(take_a_while, migrations.RunPython.noop)]
