from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0012_add_index")]

    operations = [
        migrations.RemoveIndex("product", "product_name_idx"),
    ]
