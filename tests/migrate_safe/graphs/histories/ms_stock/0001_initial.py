from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = [("ms_shop", "0001_initial")]

    operations = [
        migrations.CreateModel(
            name="Stock",
            fields=[
                ("id", models.BigAutoField(primary_key=True)),
                ("product", models.ForeignKey(on_delete=models.CASCADE, to="ms_shop.product")),
                ("qty", models.IntegerField(default=0)),
            ],
        ),
    ]
