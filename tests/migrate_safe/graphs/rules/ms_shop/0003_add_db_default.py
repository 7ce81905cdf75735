from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0002_add_nullable")]

    operations = [
        migrations.AddField("product", "stock", models.IntegerField(db_default=0)),
    ]
