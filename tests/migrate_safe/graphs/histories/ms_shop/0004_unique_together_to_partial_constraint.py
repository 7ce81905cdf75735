from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ms_shop", "0003_options_outside_the_database")]

    operations = [
        migrations.AlterUniqueTogether("product", set()),
        migrations.AddConstraint(
            "product",
            models.UniqueConstraint(
                fields=["name", "code"], condition=~models.Q(code=""), name="name_code_when_coded"
            ),
        ),
    ]
