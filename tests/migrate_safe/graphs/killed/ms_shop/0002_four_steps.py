from __future__ import annotations

from django.db import migrations, models

from tests.migrate_safe.faults import killed_after


class Migration(migrations.Migration):
    # Each operation can kill its own process right after its SQL ran (tests/migrate_safe/faults.py).
    deploy_phase = "additive"
    dependencies = [("ms_shop", "0001_initial")]

    operations = [
        killed_after(
            migrations.AddField("product", "colour", models.CharField(max_length=20, null=True)), "colour"
        ),
        killed_after(
            migrations.AddIndex("product", models.Index(fields=["name"], name="product_name_idx")), "index"
        ),
        killed_after(migrations.AddField("product", "size", models.IntegerField(null=True)), "size"),
        # Raw SQL: no project state tells what it creates, so its effect cannot be decided from the schema.
        killed_after(
            migrations.RunSQL(
                "CREATE TABLE ms_shop_note (id integer PRIMARY KEY)", "DROP TABLE ms_shop_note"
            ),
            "sql",
        ),
    ]
