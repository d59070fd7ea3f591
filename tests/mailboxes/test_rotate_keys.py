"""`manage.py rotate_keys`: every stored password re-encrypted with the first key, in batches; the old key can then
be removed and everything still reads; a second run has nothing to do."""
import io

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from mailsite.mailboxes.models import ConnectionTest, MailAccount
from tests.fixtures.users import make_user

pytestmark = pytest.mark.django_db

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def rotate(**options) -> str:
    out = io.StringIO()
    call_command("rotate_keys", stdout=out, **options)
    return out.getvalue()


def raw_tokens() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT incoming_password FROM webmail_mailaccount UNION ALL"
                       " SELECT smtp_password FROM webmail_mailaccount WHERE smtp_password <> '' UNION ALL"
                       " SELECT incoming_password FROM mailboxes_connectiontest")
        return sorted(row[0] for row in cursor.fetchall())


def test_rows_under_an_old_key_read_after_rotation_with_the_old_key_removed():
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD]):
        users = [make_user(f"user{n}", mailbox_password=f"pop-{n}") for n in range(5)]
        MailAccount.objects.filter(user=users[0]).update(smtp_username="u0", smtp_password="smtp-0")
        ConnectionTest.objects.create(user=users[1], incoming_password="tried")

    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW, OLD]):
        out = rotate(batch_size=2)  # 5 accounts: three batches
        assert "webmail_mailaccount.incoming_password: 5 re-encrypted" in out
        assert "webmail_mailaccount.smtp_password: 1 re-encrypted" in out
        assert "mailboxes_connectiontest.incoming_password: 1 re-encrypted" in out
        assert "mailboxes_connectiontest.smtp_password: 0 re-encrypted" in out  # empty: nothing to encrypt
        tokens = raw_tokens()
        # Idempotent: everything is under the first key already.
        assert "webmail_mailaccount.incoming_password: 0 re-encrypted" in rotate()
        assert raw_tokens() == tokens

    assert len(tokens) == 7
    for token in tokens:
        Fernet(NEW).decrypt(token.encode())
        with pytest.raises(InvalidToken):
            Fernet(OLD).decrypt(token.encode())
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW]):
        accounts = MailAccount.objects.order_by("id")
        assert [a.incoming_password for a in accounts] == [f"pop-{n}" for n in range(5)]
        assert accounts[0].smtp_password == "smtp-0"
        assert ConnectionTest.objects.get().incoming_password == "tried"


def test_a_row_no_key_decrypts_stops_the_rotation_with_the_error():
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD]):
        account = make_user("lost").mail_accounts.get()
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW]), pytest.raises(CommandError) as raised:
        rotate()
    assert str(raised.value).startswith("A stored password cannot be decrypted with FIELD_ENCRYPTION_KEYS")
    assert str(raised.value).endswith(f"(webmail_mailaccount.incoming_password, row {account.id})")
