from __future__ import annotations

from django.db import migrations


class Migration(migrations.Migration):
    deploy_phase = "additive"
    dependencies = [("ms_shop", "0001_initial")]

    operations = [migrations.RunSQL("SELECT pg_sleep(2)", reverse_sql=migrations.RunSQL.noop)]
