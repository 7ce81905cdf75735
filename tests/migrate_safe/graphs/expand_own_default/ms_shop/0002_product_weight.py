from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0001_initial")]

    operations = [
        migrations.AddField("product", "weight", models.IntegerField(default=1)),
    ]
