from __future__ import annotations

from django.db import migrations


def set_names(apps, schema_editor):
    apps.get_model("ms_shop", "Product").objects.using(schema_editor.connection.alias).filter(name="").update(
        name="?"
    )


class Migration(migrations.Migration):
    deploy_phase = "additive"
    dependencies = [("ms_shop", "0001_initial")]

    operations = [
        migrations.RunPython(set_names),
    ]
