"""Three NOT NULL columns with only a Python default, as a third-party app would ship them."""

from __future__ import annotations

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0001_initial")]

    operations = [
        migrations.AddField("product", "weight", models.IntegerField(default=1), preserve_default=False),
        migrations.AddField("product", "label", models.CharField(max_length=20, default="new")),
        migrations.AddField("product", "added", models.DateTimeField(default=django.utils.timezone.now)),
    ]
