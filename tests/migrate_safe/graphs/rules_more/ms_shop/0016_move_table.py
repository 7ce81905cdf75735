from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0015_rename_model_keeps_table")]

    operations = [
        migrations.AlterModelTable("product", "shop_products"),
    ]
