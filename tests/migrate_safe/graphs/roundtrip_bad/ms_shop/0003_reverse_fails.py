from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0002_index_left_behind")]

    operations = [migrations.RunSQL("SELECT 1", reverse_sql="DROP TABLE no_such_table")]
