import django.contrib.postgres.fields
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0003_self_signup"),
    ]

    operations = [
        migrations.AddField(
            model_name="tenant",
            name="spa_base_url",
            field=models.URLField(blank=True, max_length=300),
        ),
        migrations.AddField(
            model_name="tenant",
            name="cors_allowed_origins",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.CharField(max_length=300), blank=True, default=list, size=None
            ),
        ),
    ]
