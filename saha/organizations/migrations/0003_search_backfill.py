"""Index what an installation already has, so that its public search finds it after the upgrade."""

from django.db import migrations


def index_everything(apps, schema_editor):
    from saha.organizations.search_index import rebuild

    rebuild(apps=apps)


class Migration(migrations.Migration):
    dependencies = [
        ("organizations", "0002_searchentry"),
        ("campaigns", "0002_initial"),
        ("events", "0002_co_hosts"),
        ("petitions", "0001_initial"),
        ("statements", "0002_image"),
    ]

    operations = [migrations.RunPython(index_everything, migrations.RunPython.noop, elidable=True)]
