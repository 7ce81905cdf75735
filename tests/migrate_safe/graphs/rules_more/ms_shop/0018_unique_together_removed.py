from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0017_unique_together_added")]

    operations = [
        migrations.AlterUniqueTogether("group", set()),
    ]
