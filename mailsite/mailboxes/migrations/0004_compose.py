"""Writing mail: a signature per account, and drafts."""
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("mailboxes", "0002_message_folders"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="mailaccount", name="signature", field=models.TextField(blank=True, max_length=2000),
        ),
        migrations.CreateModel(
            name="Draft",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("to", models.TextField(blank=True)),
                ("cc", models.TextField(blank=True)),
                ("bcc", models.TextField(blank=True)),
                ("subject", models.CharField(blank=True, max_length=998)),
                ("text", models.TextField(blank=True)),
                ("in_reply_to", models.CharField(blank=True, max_length=998)),
                ("references", models.TextField(blank=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("account", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                              related_name="drafts", to="mailboxes.mailaccount")),
                ("forward_attached", models.ForeignKey(blank=True, null=True,
                                                       on_delete=django.db.models.deletion.SET_NULL,
                                                       related_name="+", to="mailboxes.message")),
                ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="drafts",
                                           to=settings.AUTH_USER_MODEL)),
            ],
            options={"ordering": ["-updated_at", "-id"]},
        ),
        migrations.AddIndex(
            model_name="draft", index=models.Index(fields=["user", "-updated_at"], name="draft_list"),
        ),
        migrations.CreateModel(
            name="DraftAttachment",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("filename", models.CharField(max_length=255)),
                ("content_type", models.CharField(max_length=255)),
                ("data", models.BinaryField()),
                ("size", models.PositiveIntegerField()),
                ("draft", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="attachments",
                                            to="mailboxes.draft")),
            ],
            options={"ordering": ["id"]},
        ),
        migrations.CreateModel(
            name="Contact",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("address", models.CharField(max_length=320)),
                ("name", models.CharField(blank=True, max_length=200)),
                ("hidden", models.BooleanField(default=False)),
                ("source_message_id", models.BigIntegerField(blank=True, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="contacts",
                                           to=settings.AUTH_USER_MODEL)),
            ],
            options={"ordering": ["address"]},
        ),
        migrations.AddConstraint(
            model_name="contact",
            constraint=models.UniqueConstraint(fields=("user", "address"), name="contact_unique_address"),
        ),
    ]
