from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("messaging", "0002_quiet_hours_as_times")]

    operations = [
        migrations.AddField("broadcast", "uuid", models.UUIDField(null=True, editable=False)),
    ]
