from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0013_remove_index")]

    operations = [
        migrations.AddConstraint(
            "product", models.CheckConstraint(condition=models.Q(stock__gte=0), name="stock_not_negative")
        ),
    ]
