from __future__ import annotations

from django.db import migrations, models

from tests.migrate_safe.faults import killed_after


class Migration(migrations.Migration):
    # As auth.0001 creating auth_user: a table with a foreign key, killed once both exist.
    initial = True
    deploy_phase = "additive"
    dependencies = [("ms_shop", "0002_four_steps")]

    operations = [
        killed_after(
            migrations.CreateModel(
                name="Stock",
                fields=[
                    ("id", models.BigAutoField(primary_key=True)),
                    ("product", models.ForeignKey(on_delete=models.CASCADE, to="ms_shop.product")),
                    ("qty", models.IntegerField(default=0)),
                ],
            ),
            "create",
        ),
    ]
