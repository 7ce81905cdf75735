from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0002_widen_integer")]

    operations = [
        migrations.AlterField("product", "name", models.CharField(max_length=30)),
    ]
