from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0002_product_weight")]

    operations = [
        migrations.RemoveField("product", "legacy"),
    ]
