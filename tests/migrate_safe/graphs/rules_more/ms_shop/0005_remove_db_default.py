from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0004_add_db_default")]

    operations = [
        migrations.AlterField("product", "note", models.TextField()),
    ]
