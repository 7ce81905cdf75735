from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0018_separate_database_and_state")]

    operations = [
        migrations.DeleteModel("Temp"),
    ]
