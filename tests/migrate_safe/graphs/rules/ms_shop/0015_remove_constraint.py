from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [('ms_shop', '0014_add_constraint')]

    operations = [
        migrations.RemoveConstraint("product", "stock_not_negative"),
    ]
