from __future__ import annotations

from django.contrib.postgres import operations as pg
from django.db import migrations


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("ms_shop", "0020_add_index_concurrently")]

    operations = [
        pg.RemoveIndexConcurrently("group", "group_title_idx"),
    ]
