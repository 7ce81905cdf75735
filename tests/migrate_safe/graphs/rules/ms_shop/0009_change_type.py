from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0008_tighten_null")]

    operations = [
        migrations.AlterField("product", "notes", models.IntegerField(null=True)),
    ]
