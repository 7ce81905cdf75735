from __future__ import annotations

from typing import Any

from django.db import migrations


def first_stock(apps: Any, schema_editor: Any) -> None:
    Product = apps.get_model("ms_shop", "Product")
    Stock = apps.get_model("ms_stock", "Stock")
    db = schema_editor.connection.alias
    Stock.objects.using(db).bulk_create(Stock(product=p, qty=0) for p in Product.objects.using(db).all())


class Migration(migrations.Migration):
    dependencies = [("ms_stock", "0001_initial")]

    operations = [migrations.RunPython(first_stock, migrations.RunPython.noop)]
