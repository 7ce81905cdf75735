from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0002_left"), ("ms_shop", "0002_right")]

    operations = [
        migrations.AddField("product", "size", models.IntegerField(null=True)),
    ]
