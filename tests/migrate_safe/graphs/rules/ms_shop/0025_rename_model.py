from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0024_rename_field")]

    operations = [
        migrations.RenameModel("Product", "Item"),
    ]
