from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0009_index_removed")]

    operations = [
        migrations.RemoveField("product", "flag"),
    ]
