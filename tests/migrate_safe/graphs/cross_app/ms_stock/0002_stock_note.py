from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ms_stock", "0001_initial"), ("ms_shop", "0002_remove_legacy")]

    operations = [
        migrations.AddField("stock", "note", models.TextField(null=True)),
    ]
