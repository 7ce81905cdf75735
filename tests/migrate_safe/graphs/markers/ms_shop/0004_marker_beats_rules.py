from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    deploy_phase = "additive"
    dependencies = [("ms_shop", "0003_setting_sql")]

    operations = [
        migrations.RemoveField("product", "legacy"),
    ]
