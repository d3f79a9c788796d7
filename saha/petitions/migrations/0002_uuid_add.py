from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("petitions", "0001_initial")]

    operations = [
        migrations.AddField("petition", "uuid", models.UUIDField(null=True, editable=False)),
        migrations.AddField("signature", "uuid", models.UUIDField(null=True, editable=False)),
    ]
