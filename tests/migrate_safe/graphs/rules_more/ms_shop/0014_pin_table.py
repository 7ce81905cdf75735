from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0013_rename_field_keeps_column")]

    operations = [
        migrations.AlterModelTable("category", "ms_shop_category"),
    ]
