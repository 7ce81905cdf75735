from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    """Upper-cases the codes the previous migration wrote."""

    dependencies = [("ms_shop", "0002_fill_codes")]

    operations = [
        migrations.RunSQL("UPDATE ms_shop_product SET code = UPPER(code)", migrations.RunSQL.noop),
    ]
