from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0004_add_not_null_python_default")]

    operations = [
        migrations.RemoveField("product", "legacy"),
    ]
