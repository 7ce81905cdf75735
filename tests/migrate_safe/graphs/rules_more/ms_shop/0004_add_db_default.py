from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0003_narrow")]

    operations = [
        migrations.AlterField("product", "qty", models.BigIntegerField(db_default=0)),
    ]
