from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0007_shelf")]

    operations = [migrations.AlterField("shelf", "label", models.CharField(max_length=20, default="-"))]
