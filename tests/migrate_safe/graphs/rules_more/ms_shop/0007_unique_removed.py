from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0006_unique_added")]

    operations = [
        migrations.AlterField("product", "code", models.CharField(max_length=20, null=True)),
    ]
