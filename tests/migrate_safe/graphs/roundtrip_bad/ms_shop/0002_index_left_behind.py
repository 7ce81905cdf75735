from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0001_initial")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS product_name_x ON ms_shop_product (name)",
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
