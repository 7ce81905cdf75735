from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0017_run_python")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AddField("product", "barcode", models.CharField(max_length=20, null=True))
            ],
            state_operations=[
                migrations.AddField("product", "barcode", models.CharField(max_length=20, null=True))
            ],
        ),
    ]
