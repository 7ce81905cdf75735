from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0003_remove_legacy")]

    operations = [
        migrations.AddField("product", "size", models.IntegerField(db_default=1)),
    ]
