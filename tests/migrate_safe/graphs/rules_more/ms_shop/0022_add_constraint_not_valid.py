from __future__ import annotations

from django.contrib.postgres import operations as pg
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0021_remove_index_concurrently")]

    operations = [
        pg.AddConstraintNotValid(
            "group", models.CheckConstraint(condition=models.Q(id__gt=0), name="group_id_positive")
        ),
    ]
