from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0010_scratch_required")]

    operations = [migrations.RemoveField("product", "scratch")]
