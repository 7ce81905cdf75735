from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0014_add_constraint")]

    operations = [
        migrations.RemoveConstraint("product", "stock_not_negative"),
    ]
