from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0021_mixed")]

    operations = [
        migrations.AlterUniqueTogether("shelf", {("label", "row")}),
    ]
