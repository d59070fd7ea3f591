"""MailAccount, Message and Attachment now belong to the mailboxes app (mailboxes 0001): forget them here, by state
only, after every foreign key into them points there. Their tables stay."""
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("webmail", "0002_inbound_polling"),
        ("mailboxes", "0001_initial"),
        ("spooler", "0004_relay_in_mailboxes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name="mailaccount", name="user"),
                migrations.RemoveField(model_name="message", name="account"),
                migrations.DeleteModel(name="Attachment"),
                migrations.DeleteModel(name="MailAccount"),
                migrations.DeleteModel(name="Message"),
            ],
        ),
    ]
