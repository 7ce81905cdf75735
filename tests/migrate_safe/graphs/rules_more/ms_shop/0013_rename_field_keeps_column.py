from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0012_pin_column")]

    operations = [
        migrations.RenameField("product", "name", "label"),
    ]
