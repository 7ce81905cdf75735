from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0003_merge")]

    operations = [
        migrations.AddField("product", "weight", models.IntegerField(null=True)),
    ]
