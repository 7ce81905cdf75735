from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0001_initial")]

    operations = [
        migrations.AddField("product", "colour", models.CharField(max_length=20, null=True)),
        migrations.AddIndex("product", models.Index(fields=["name"], name="product_name_idx")),
    ]
