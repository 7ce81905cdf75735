from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0008_shelf_label_required")]

    operations = [migrations.AddField("product", "scratch", models.IntegerField(null=True))]
