from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0022_add_constraint_not_valid")]

    operations = [
        migrations.AlterModelOptions("group", {"ordering": ["title"]}),
    ]
