"""Folders, stars and sorted lists: each message gets its user, its box and its sort keys (placement.py), filled in
for the rows stored before."""
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from mailsite.mailboxes import placement

BATCH = 2000


def fill(apps, schema_editor):
    Message = apps.get_model("mailboxes", "Message")
    db = schema_editor.connection.alias
    rows = Message.objects.using(db).order_by("id").values_list(
        "id", "account__user_id", "folder", "date", "fetched_at", "sender", "subject")
    last = 0
    while batch := list(rows.filter(id__gt=last)[:BATCH]):
        changed = []
        for id_, user_id, folder, date, fetched_at, sender, subject in batch:
            message = Message(id=id_, user_id=user_id, **placement.placement(
                folder=folder, date=date, fetched_at=fetched_at, sender=sender, subject=subject))
            changed.append(message)
        Message.objects.using(db).bulk_update(changed, ["user", "box", "sort_at", "sender_key", "subject_key"])
        last = batch[-1][0]


class Migration(migrations.Migration):

    dependencies = [
        ("mailboxes", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="message", name="user",
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE,
                                    related_name="messages", to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name="message", name="box",
            field=models.CharField(choices=[("inbox", "Inbox"), ("archive", "Archive"), ("spam", "Spam"),
                                            ("trash", "Trash"), ("folder", "Server folder"), ("deleted", "Deleted")],
                                   default="inbox", max_length=16),
        ),
        migrations.AddField(
            model_name="message", name="flagged", field=models.BooleanField(default=False, help_text="Starred."),
        ),
        migrations.AddField(
            model_name="message", name="sort_at", field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AddField(
            model_name="message", name="sender_key", field=models.CharField(blank=True, max_length=100),
        ),
        migrations.AddField(
            model_name="message", name="subject_key", field=models.CharField(blank=True, max_length=100),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="message", name="user",
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                    related_name="messages", to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddIndex(
            model_name="message",
            index=models.Index(fields=["user", "box", "-sort_at", "-id"], name="message_list_by_date"),
        ),
        migrations.AddIndex(
            model_name="message",
            index=models.Index(fields=["user", "box", "sender_key", "id"], name="message_list_by_sender"),
        ),
        migrations.AddIndex(
            model_name="message",
            index=models.Index(fields=["user", "box", "subject_key", "id"], name="message_list_by_subject"),
        ),
    ]
