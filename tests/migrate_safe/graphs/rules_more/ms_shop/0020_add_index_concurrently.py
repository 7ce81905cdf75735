from __future__ import annotations

from django.contrib.postgres import operations as pg
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("ms_shop", "0019_unmanaged_delete")]

    operations = [
        pg.AddIndexConcurrently("group", models.Index(fields=["title"], name="group_title_idx")),
    ]
