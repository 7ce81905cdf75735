from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0010_python_only")]

    operations = [
        migrations.AlterField("product", "price", models.IntegerField(null=True, unique=True)),
    ]
