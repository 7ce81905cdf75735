from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0002_left")]

    operations = [
        migrations.CreateModel(
            name="Stock",
            fields=[("id", models.BigAutoField(primary_key=True)), ("qty", models.IntegerField())],
        ),
    ]
