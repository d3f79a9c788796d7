from django.db import migrations

from saha.core.migration_helpers import fill_uuids


class Migration(migrations.Migration):
    dependencies = [("messaging", "0003_uuid_add")]

    operations = [
        migrations.RunPython(fill_uuids("messaging", ['broadcast']), migrations.RunPython.noop),
    ]
