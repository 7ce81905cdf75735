from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0005_remove_nullable")]

    operations = [
        migrations.RemoveField("product", "sku"),
    ]
