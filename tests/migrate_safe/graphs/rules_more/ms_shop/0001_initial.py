from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Product",
            fields=[
                ("id", models.BigAutoField(primary_key=True)),
                ("name", models.CharField(max_length=50)),
                ("qty", models.IntegerField()),
                ("code", models.CharField(max_length=20, null=True)),
                ("note", models.TextField(db_default="")),
                ("flag", models.BooleanField(db_default=False)),
            ],
        ),
        migrations.CreateModel(
            name="Category",
            fields=[("id", models.BigAutoField(primary_key=True)), ("title", models.TextField())],
        ),
        migrations.CreateModel(
            name="Legacy", fields=[("id", models.BigAutoField(primary_key=True))], options={"managed": False}
        ),
    ]
