from django.db import migrations

from saha.core.migration_helpers import fill_uuids


class Migration(migrations.Migration):
    dependencies = [("petitions", "0002_uuid_add")]

    operations = [
        migrations.RunPython(fill_uuids("petitions", ['petition', 'signature']), migrations.RunPython.noop),
    ]
