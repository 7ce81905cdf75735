from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0020_create_model")]

    operations = [
        migrations.AddField("shelf", "width", models.IntegerField(null=True)),
        migrations.RemoveField("product", "colour"),
    ]
