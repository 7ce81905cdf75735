from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0011_remove_scratch")]

    operations = [
        migrations.AlterField("product", "code", models.CharField(max_length=10, unique=True, db_index=True))
    ]
