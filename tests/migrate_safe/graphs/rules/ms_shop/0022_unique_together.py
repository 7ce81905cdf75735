from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [('ms_shop', '0021_mixed')]

    operations = [
        migrations.AlterUniqueTogether("shelf", {("label", "row")}),
    ]
