from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    # The unique constraint fails while duplicate names exist: a failure after two DDL steps.
    dependencies = [("ms_shop", "0001_initial")]

    operations = [
        migrations.AddField("product", "colour", models.CharField(max_length=20, null=True)),
        migrations.AddField("product", "size", models.IntegerField(null=True)),
        migrations.AddConstraint(
            "product", models.UniqueConstraint(fields=["name"], name="unique_product_name")
        ),
    ]
