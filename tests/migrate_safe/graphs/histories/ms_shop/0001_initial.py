from __future__ import annotations

from django.db import migrations, models

from tests.migrate_safe.graphs.histories.operations import PaletteField


class Migration(migrations.Migration):
    initial = True
    dependencies: list[tuple[str, str]] = []

    operations = [
        migrations.CreateModel(
            name="Product",
            fields=[
                ("id", models.BigAutoField(primary_key=True)),
                ("name", models.CharField(max_length=50)),
                ("slug", models.SlugField(max_length=50)),
                ("data", models.JSONField(null=True)),
                ("code", models.CharField(max_length=10)),
                ("colour", PaletteField(max_length=7, palette="web")),
            ],
            options={
                "unique_together": {("name", "code")},
                "indexes": [models.Index(fields=["code"], name="code_idx")],
            },
        ),
    ]
