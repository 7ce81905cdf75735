from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    """What makemigrations writes for a deleted model with a unique_together: relax it, then drop it."""

    dependencies = [("ms_billing", "0003_batch")]

    operations = [
        migrations.AlterUniqueTogether("ledger", set()),
        migrations.DeleteModel("Ledger"),
    ]
