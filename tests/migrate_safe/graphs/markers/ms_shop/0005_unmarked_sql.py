from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0004_marker_beats_rules")]

    operations = [
        migrations.RunSQL("SELECT 1", reverse_sql="SELECT 1"),
    ]
