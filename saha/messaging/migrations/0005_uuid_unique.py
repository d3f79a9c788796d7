import uuid

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("messaging", "0004_uuid_fill")]

    operations = [
        migrations.AlterField("broadcast", "uuid", models.UUIDField(default=uuid.uuid4, unique=True, editable=False)),
    ]
