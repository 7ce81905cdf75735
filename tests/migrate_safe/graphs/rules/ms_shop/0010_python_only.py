from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0009_change_type")]

    operations = [
        migrations.AlterField(
            "product", "name", models.CharField(max_length=50, help_text="Shown to customers")
        ),
    ]
