"""A later migration gives the expanded column a DB default of its own: contracting must keep it."""

from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0002_product_weight")]

    operations = [
        migrations.AlterField("product", "weight", models.IntegerField(default=1, db_default=5)),
    ]
