from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("supporters", "0002_alter_consentrecord_source")]

    operations = [
        migrations.AddField("person", "uuid", models.UUIDField(null=True, editable=False)),
        migrations.AddField("tag", "uuid", models.UUIDField(null=True, editable=False)),
        migrations.AddField("tagging", "uuid", models.UUIDField(null=True, editable=False)),
        migrations.AddField("segment", "uuid", models.UUIDField(null=True, editable=False)),
    ]
