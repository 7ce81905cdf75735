from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [('ms_shop', '0002_marked_python')]

    operations = [
        migrations.RunSQL("UPDATE ms_shop_product SET name = name"),
    ]
