from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [('ms_shop', '0023_noop_python')]

    operations = [
        migrations.RenameField("product", "name", "title"),
    ]
