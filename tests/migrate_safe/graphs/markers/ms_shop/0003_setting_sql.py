from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0002_marked_python")]

    operations = [
        migrations.RunSQL("UPDATE ms_shop_product SET name = name"),
    ]
