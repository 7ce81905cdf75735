from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0010_remove_with_db_default")]

    operations = [
        migrations.AddField(
            "product", "category", models.ForeignKey("ms_shop.category", models.CASCADE, null=True)
        ),
    ]
