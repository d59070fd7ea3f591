"""The start-up check of the keys that decrypt the stored passwords: `manage.py check`, runserver, migrate, the
Celery worker (mailsite/celery.py) and the web processes (mailsite/wsgi.py) run it, so a missing or wrong key stops
them with a clear error instead of failing on the first poll or send."""
from django.apps import apps
from django.core.checks import Error, register, run_checks
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connection
from django.db.migrations.recorder import MigrationRecorder

from mailsite.mailboxes.encryption import SecretUndecryptable, decrypt, encrypted_fields, fernets, stored_values

TAG = "secrets"
ENCRYPTING_MIGRATION = ("mailboxes", "0010_encrypt_passwords")


@register(TAG)
def encryption_keys_check(app_configs=None, databases=None, **kwargs):
    try:
        fernets()
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="mailboxes.E001")]
    if not databases:  # (Django's rule for checks that read a database: only when asked, e.g. by migrate)
        return []
    try:
        if ENCRYPTING_MIGRATION not in MigrationRecorder(connection).applied_migrations():
            return []  # the rows are not encrypted yet: migrate will do it with these keys
        # The oldest and the newest stored secret of each field: a key that decrypts neither is not the one in use.
        for model, field in encrypted_fields(apps.get_app_config("mailboxes").get_models()):
            rows = stored_values(model, field, limit=1) + stored_values(model, field, limit=1, newest=True)
            for pk, stored in rows:
                try:
                    decrypt(stored)
                except SecretUndecryptable:
                    return [Error(str(SecretUndecryptable(where=f"{model._meta.db_table}.{field}, row {pk}")),
                                  hint="Set FIELD_ENCRYPTION_KEYS to the keys the passwords were stored with.",
                                  id="mailboxes.E002")]
    except DatabaseError:
        return []  # no database yet: nothing stored to read
    return []


def secrets_ready() -> None:
    """Raise ImproperlyConfigured with the check's errors, if any (processes that do not run Django's checks)."""
    errors = [message for message in run_checks(tags=[TAG], databases=["default"]) if message.is_serious()]
    if errors:
        raise ImproperlyConfigured("\n".join(f"{message.id}: {message.msg}" for message in errors))
