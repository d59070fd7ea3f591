"""Mail-account passwords (and the ones a connection test holds while it runs) stored encrypted: the columns become
text holding Fernet tokens, and the rows already there are encrypted with the first of FIELD_ENCRYPTION_KEYS.
Backwards: decrypted, then the columns are what they were."""
from django.db import migrations

import mailsite.mailboxes.encryption
from mailsite.mailboxes.encryption import column_rewrite, decrypt, encrypt

FIELDS = [("mailaccount", "incoming_password"), ("mailaccount", "smtp_password"),
          ("connectiontest", "incoming_password"), ("connectiontest", "smtp_password")]


def _rewrite(transform):
    def run(apps, schema_editor):
        for model_name, field in FIELDS:
            column_rewrite(model=apps.get_model("mailboxes", model_name), field=field, transform=transform)
        if schema_editor.connection.vendor == "postgresql":
            # The updated rows' deferred foreign key checks now: PostgreSQL refuses to ALTER a table with pending
            # trigger events (backwards, the columns are altered after this, in the same transaction).
            schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            schema_editor.execute("SET CONSTRAINTS ALL DEFERRED")
    return run


class Migration(migrations.Migration):

    dependencies = [
        ("mailboxes", "0009_user_preferences"),
    ]

    operations = [
        migrations.AlterField(
            model_name="connectiontest",
            name="incoming_password",
            field=mailsite.mailboxes.encryption.EncryptedTextField(blank=True),
        ),
        migrations.AlterField(
            model_name="connectiontest",
            name="smtp_password",
            field=mailsite.mailboxes.encryption.EncryptedTextField(blank=True),
        ),
        migrations.AlterField(
            model_name="mailaccount",
            name="incoming_password",
            field=mailsite.mailboxes.encryption.EncryptedTextField(),
        ),
        migrations.AlterField(
            model_name="mailaccount",
            name="smtp_password",
            field=mailsite.mailboxes.encryption.EncryptedTextField(blank=True),
        ),
        migrations.RunPython(_rewrite(encrypt), _rewrite(decrypt)),
    ]
