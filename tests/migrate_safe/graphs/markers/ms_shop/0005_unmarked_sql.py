from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [('ms_shop', '0004_marker_beats_rules')]

    operations = [
        migrations.RunSQL("SELECT 1", reverse_sql="SELECT 1"),
    ]
