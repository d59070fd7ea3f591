"""Passwords at rest: the columns hold Fernet tokens, never what was typed; the model reads and writes plain text;
a token no key decrypts is an error, never an empty password; without keys, DEBUG keeps a development key in var/."""
import stat

import pytest
from cryptography.fernet import Fernet
from django.db import connection
from django.test import override_settings

from mailsite.mailboxes.encryption import SecretUndecryptable, configured_keys
from mailsite.mailboxes.models import ConnectionTest, MailAccount
from tests.fixtures.users import make_user

pytestmark = pytest.mark.django_db

KEY = Fernet.generate_key().decode()


def stored(table: str, pk: int) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT incoming_password, smtp_password FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()


@override_settings(FIELD_ENCRYPTION_KEYS=[KEY])
def test_the_database_holds_tokens_and_the_model_the_passwords():
    user = make_user("carol", mailbox_password="pop-pass-1")
    account = user.mail_accounts.get()
    account.smtp_username, account.smtp_password = "carol", "smtp-pass-2"
    account.save()

    incoming, smtp = stored("webmail_mailaccount", account.id)
    assert "pop-pass-1" not in incoming and "smtp-pass-2" not in smtp
    assert Fernet(KEY).decrypt(incoming.encode()) == b"pop-pass-1"
    assert Fernet(KEY).decrypt(smtp.encode()) == b"smtp-pass-2"
    again = MailAccount.objects.get(id=account.id)
    assert (again.incoming_password, again.smtp_password) == ("pop-pass-1", "smtp-pass-2")
    # A queryset update goes through the field as well.
    MailAccount.objects.filter(id=account.id).update(incoming_password="pop-pass-3")
    assert "pop-pass-3" not in stored("webmail_mailaccount", account.id)[0]
    assert MailAccount.objects.values_list("incoming_password", flat=True).get(id=account.id) == "pop-pass-3"


@override_settings(FIELD_ENCRYPTION_KEYS=[KEY])
def test_a_connection_test_holds_its_passwords_encrypted_and_empty_stays_empty(alice):
    test = ConnectionTest.objects.create(user=alice, incoming_password="tried-1", smtp_password="")
    incoming, smtp = stored("mailboxes_connectiontest", test.id)
    assert "tried-1" not in incoming and Fernet(KEY).decrypt(incoming.encode()) == b"tried-1"
    assert smtp == ""  # nothing to hide: "no password" stays comparable
    assert ConnectionTest.objects.filter(smtp_password="").get().incoming_password == "tried-1"


def test_a_password_under_a_key_no_longer_configured_is_an_error_not_empty(alice):
    with override_settings(FIELD_ENCRYPTION_KEYS=[Fernet.generate_key().decode()]):
        with pytest.raises(SecretUndecryptable, match="cannot be decrypted with FIELD_ENCRYPTION_KEYS"):
            MailAccount.objects.get(user=alice)


def test_with_debug_and_no_key_a_development_key_is_made_once_and_kept(tmp_path):
    key_file = tmp_path / "var" / "field_encryption.key"
    with override_settings(FIELD_ENCRYPTION_KEYS=[], FIELD_ENCRYPTION_DEV_KEY_FILE=key_file):
        first = configured_keys()
        assert first == configured_keys() == [key_file.read_text().strip()]
        Fernet(first[0])  # a real key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert [p.name for p in key_file.parent.iterdir()] == [key_file.name]  # no temporary file left


def test_the_configured_keys_come_first_and_blank_entries_are_ignored():
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY, " ", "other"], FIELD_ENCRYPTION_DEV_KEY_FILE="/nonexistent"):
        assert configured_keys() == [KEY, "other"]
