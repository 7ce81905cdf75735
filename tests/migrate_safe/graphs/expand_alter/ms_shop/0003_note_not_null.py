"""NULL -> NOT NULL with a Python default, of a column the old code does not have (added by 0002 in
the same additive phase). The marker stands in for the AlterField rule that judges this case."""

from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    deploy_phase = "additive"
    dependencies = [("ms_shop", "0002_product_note")]

    operations = [
        migrations.AlterField("product", "note", models.CharField(max_length=20, default="none")),
    ]
