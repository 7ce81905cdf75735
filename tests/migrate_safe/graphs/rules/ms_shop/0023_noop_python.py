from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [('ms_shop', '0022_unique_together')]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop),
    ]
