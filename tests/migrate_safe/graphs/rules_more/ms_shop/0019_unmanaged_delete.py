from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0018_unique_together_removed")]

    operations = [
        migrations.DeleteModel("Legacy"),
    ]
