from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0003_add_db_default")]

    operations = [
        migrations.AddField("product", "weight", models.IntegerField(default=1), preserve_default=False),
    ]
