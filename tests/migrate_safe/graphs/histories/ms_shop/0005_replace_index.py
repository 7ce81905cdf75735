from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0004_unique_together_to_partial_constraint")]

    operations = [
        migrations.RemoveIndex("product", "code_idx"),
        migrations.AddIndex("product", models.Index(fields=["code", "slug"], name="code_slug_idx")),
    ]
