from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0014_pin_table")]

    operations = [
        migrations.RenameModel("Category", "Group"),
    ]
