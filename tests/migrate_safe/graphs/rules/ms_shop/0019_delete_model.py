from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [('ms_shop', '0018_separate_database_and_state')]

    operations = [
        migrations.DeleteModel("Temp"),
    ]
