from __future__ import annotations

from django.db import migrations


def fill_names(apps, schema_editor):
    apps.get_model("ms_shop", "Product").objects.using(schema_editor.connection.alias).filter(name="").update(
        name="?"
    )


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0016_run_sql")]

    operations = [
        migrations.RunPython(fill_names),
    ]
