from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [('ms_shop', '0005_remove_nullable')]

    operations = [
        migrations.RemoveField("product", "sku"),
    ]
