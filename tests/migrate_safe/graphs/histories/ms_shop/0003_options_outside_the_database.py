from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from django.db import migrations, models

from tests.migrate_safe.graphs.histories.operations import PaletteField


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0002_name_to_text")]

    operations = [
        migrations.AlterField("product", "slug", models.SlugField(max_length=50, allow_unicode=True)),
        migrations.AlterField("product", "data", models.JSONField(null=True, encoder=DjangoJSONEncoder)),
        migrations.AlterField("product", "colour", PaletteField(max_length=7, palette="css")),
    ]
