import uuid

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("events", "0004_uuid_fill")]

    operations = [
        migrations.AlterField("event", "uuid", models.UUIDField(default=uuid.uuid4, unique=True, editable=False)),
        migrations.AlterField("rsvp", "uuid", models.UUIDField(default=uuid.uuid4, unique=True, editable=False)),
    ]
