from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ms_billing", "0001_initial"), ("ms_stock", "0002_stock_note")]

    operations = [
        migrations.AddField("invoice", "currency", models.CharField(max_length=3, null=True)),
    ]
