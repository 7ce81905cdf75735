from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0001_initial")]

    operations = [migrations.RemoveField("product", "sku")]
