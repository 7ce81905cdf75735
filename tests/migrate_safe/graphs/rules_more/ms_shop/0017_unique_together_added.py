from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0016_move_table")]

    operations = [
        migrations.AlterUniqueTogether("group", {("title",)}),
    ]
