from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Product",
            fields=[
                ("id", models.BigAutoField(primary_key=True)),
                ("name", models.CharField(max_length=50)),
                ("price", models.IntegerField()),
                ("code", models.CharField(max_length=20, null=True)),
                ("sku", models.CharField(max_length=10)),
                ("legacy", models.CharField(max_length=10, null=True)),
                ("notes", models.TextField(null=True)),
            ],
        ),
        migrations.CreateModel(name="Temp", fields=[("id", models.BigAutoField(primary_key=True))]),
    ]
