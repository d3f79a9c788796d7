from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("events", "0002_co_hosts")]

    operations = [
        migrations.AddField("event", "uuid", models.UUIDField(null=True, editable=False)),
        migrations.AddField("rsvp", "uuid", models.UUIDField(null=True, editable=False)),
    ]
