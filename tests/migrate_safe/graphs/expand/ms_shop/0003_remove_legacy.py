from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [('ms_shop', '0002_product_colour')]

    operations = [
        migrations.RemoveField("product", "legacy"),
    ]
