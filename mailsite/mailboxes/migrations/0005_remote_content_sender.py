"""Reading: the senders whose mail a user always reads with remote content shown."""
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("mailboxes", "0004_compose"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="RemoteContentSender",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("address", models.CharField(max_length=320)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                           related_name="remote_content_senders", to=settings.AUTH_USER_MODEL)),
            ],
            options={"ordering": ["address"]},
        ),
        migrations.AddConstraint(
            model_name="remotecontentsender",
            constraint=models.UniqueConstraint(fields=("user", "address"), name="remote_content_sender_unique"),
        ),
    ]
