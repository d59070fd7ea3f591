"""The relay's account model moved to the mailboxes app with its table: only the state changes."""
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("mailboxes", "0001_initial"),
        ("spooler", "0003_outbox_body_and_due_order"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="outboxmessage",
                    name="relay",
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                            related_name="outbox", to="mailboxes.mailaccount"),
                ),
            ],
        ),
    ]
