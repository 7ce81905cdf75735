from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0011_relax_and_tighten")]

    operations = [
        migrations.AddIndex("product", models.Index(fields=["name"], name="product_name_idx")),
    ]
