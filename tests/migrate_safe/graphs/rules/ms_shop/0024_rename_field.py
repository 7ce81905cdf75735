from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0023_noop_python")]

    operations = [
        migrations.RenameField("product", "name", "title"),
    ]
