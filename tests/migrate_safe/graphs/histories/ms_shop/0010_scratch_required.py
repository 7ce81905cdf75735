from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0009_scratch")]

    operations = [migrations.AlterField("product", "scratch", models.IntegerField(default=0))]
