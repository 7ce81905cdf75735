from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    """A new nullable column, unique together with an old one: the old code's rows leave it NULL."""

    dependencies = [("ms_billing", "0002_note_and_stamp")]

    operations = [
        migrations.AddField("invoice", "batch", models.CharField(max_length=10, null=True)),
        migrations.AlterUniqueTogether("invoice", {("number", "batch")}),
    ]
