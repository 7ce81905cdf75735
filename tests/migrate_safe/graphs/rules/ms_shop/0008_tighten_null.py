from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0007_widen")]

    operations = [
        migrations.AlterField("product", "code", models.CharField(max_length=40, default="")),
    ]
