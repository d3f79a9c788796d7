import uuid

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("petitions", "0003_uuid_fill")]

    operations = [
        migrations.AlterField("petition", "uuid", models.UUIDField(default=uuid.uuid4, unique=True, editable=False)),
        migrations.AlterField("signature", "uuid", models.UUIDField(default=uuid.uuid4, unique=True, editable=False)),
    ]
