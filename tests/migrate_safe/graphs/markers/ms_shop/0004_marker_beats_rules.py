from django.db import migrations, models


class Migration(migrations.Migration):
    deploy_phase = "additive"
    dependencies = [('ms_shop', '0003_setting_sql')]

    operations = [
        migrations.RemoveField("product", "legacy"),
    ]
