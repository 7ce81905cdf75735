from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0007_unique_removed")]

    operations = [
        migrations.AlterField("product", "name", models.CharField(max_length=30, db_index=True)),
    ]
