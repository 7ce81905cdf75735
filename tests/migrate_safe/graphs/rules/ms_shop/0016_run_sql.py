from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0015_remove_constraint")]

    operations = [
        migrations.RunSQL(
            "UPDATE ms_shop_product SET stock = 0 WHERE stock IS NULL", reverse_sql=migrations.RunSQL.noop
        ),
    ]
