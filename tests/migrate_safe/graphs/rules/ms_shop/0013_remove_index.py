from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [('ms_shop', '0012_add_index')]

    operations = [
        migrations.RemoveIndex("product", "product_name_idx"),
    ]
