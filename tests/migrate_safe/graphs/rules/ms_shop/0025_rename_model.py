from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [('ms_shop', '0024_rename_field')]

    operations = [
        migrations.RenameModel("Product", "Item"),
    ]
