from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    """A longer column, no longer nullable: one AlterField that relaxes and tightens at once."""

    dependencies = [("ms_shop", "0001_initial")]

    operations = [
        migrations.AlterField(
            "product", "scope", models.TextField(blank=True, default=""), preserve_default=False
        )
    ]
