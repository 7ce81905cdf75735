from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    """What makemigrations writes for a blank text field and a creation time: no default of their own."""

    dependencies = [("ms_billing", "0001_initial")]

    operations = [
        migrations.AddField("invoice", "note", models.TextField(blank=True)),
        migrations.AddField("invoice", "created_at", models.DateTimeField(auto_now_add=True)),
        migrations.AddField("invoice", "extra", models.JSONField(blank=True, default=dict)),
    ]
