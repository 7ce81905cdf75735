from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    replaces = [("ms_shop", "0001_initial"), ("ms_shop", "0002_colour")]
    dependencies: list[tuple[str, str]] = []

    operations = [
        migrations.CreateModel(
            name="Product",
            fields=[
                ("id", models.BigAutoField(primary_key=True)),
                ("name", models.CharField(max_length=50)),
                ("legacy", models.CharField(max_length=10, null=True)),
                ("colour", models.CharField(max_length=20, null=True)),
            ],
        ),
    ]
