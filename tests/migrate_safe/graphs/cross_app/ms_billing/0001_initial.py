from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ms_stock", "0001_initial")]

    operations = [
        migrations.CreateModel(
            name="Invoice",
            fields=[("id", models.BigAutoField(primary_key=True)), ("total", models.IntegerField(null=True))],
        ),
    ]
