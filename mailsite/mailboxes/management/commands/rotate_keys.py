"""Re-encrypt every stored secret with the first of FIELD_ENCRYPTION_KEYS (README, "Secrets").

Rotation: put the new key first (the old ones after it), restart, run this, then remove the old keys. Rows are
rewritten in batches; a row already under the first key is left alone, so running it again (or after an
interruption) only does what is left."""
from django.apps import apps
from django.core.management.base import BaseCommand, CommandError

from mailsite.mailboxes.encryption import SecretUndecryptable, column_rewrite, encrypted_fields, token_rotate


class Command(BaseCommand):
    help = "Re-encrypt every stored password with the first of FIELD_ENCRYPTION_KEYS."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500, help="Rows per transaction (default 500).")

    def handle(self, *args, batch_size, **options):
        for model, field in encrypted_fields(apps.get_models()):
            try:
                count = column_rewrite(model=model, field=field, transform=token_rotate, batch_size=batch_size)
            except SecretUndecryptable as exc:  # the rows before it are done: run again with the right keys
                raise CommandError(str(exc)) from None
            self.stdout.write(f"{model._meta.db_table}.{field}: {count} re-encrypted")
