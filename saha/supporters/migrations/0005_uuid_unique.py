import uuid

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("supporters", "0004_uuid_fill")]

    operations = [
        migrations.AlterField("person", "uuid", models.UUIDField(default=uuid.uuid4, unique=True, editable=False)),
        migrations.AlterField("tag", "uuid", models.UUIDField(default=uuid.uuid4, unique=True, editable=False)),
        migrations.AlterField("tagging", "uuid", models.UUIDField(default=uuid.uuid4, unique=True, editable=False)),
        migrations.AlterField("segment", "uuid", models.UUIDField(default=uuid.uuid4, unique=True, editable=False)),
    ]
