from __future__ import annotations

from django.db import migrations, models

from tests.migrate_safe.graphs.histories.operations import StateOnlyAddIndex


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0005_replace_index")]

    operations = [StateOnlyAddIndex("product", models.Index(fields=["slug"], name="slug_idx"))]
