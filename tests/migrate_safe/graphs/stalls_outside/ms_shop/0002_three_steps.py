from __future__ import annotations

from django.db import migrations, models

from tests.migrate_safe.faults import stall


class Migration(migrations.Migration):
    # As the "stalls" graph, but not atomic: the RunPython runs outside a transaction.
    atomic = False
    deploy_phase = "additive"
    dependencies = [("ms_shop", "0001_initial")]

    operations = [
        migrations.AddField("product", "colour", models.CharField(max_length=20, null=True)),
        migrations.RunPython(stall, migrations.RunPython.noop),
        migrations.AddIndex("product", models.Index(fields=["name"], name="product_name_idx")),
    ]
