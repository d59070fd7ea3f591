"""Migration 0010: the passwords already stored (accounts, a connection test) are encrypted with the first key,
and decrypted again going back. Run on the suite's engine, in a database of its own."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent('''
    import os
    import django
    django.setup()
    from cryptography.fernet import Fernet
    from django.core.management import call_command
    from django.db import connection

    def rows(sql, params=()):
        with connection.cursor() as c:
            c.execute(sql, params)
            return c.fetchall()

    call_command("migrate", "mailboxes", "0009", verbosity=0)
    call_command("migrate", "auth", verbosity=0)
    with connection.cursor() as c:
        c.execute("INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff,"
                  " is_active, date_joined) VALUES ('!', FALSE, 'alice', '', '', '', FALSE, TRUE, '2026-12-01 10:00')")
        user = rows("SELECT id FROM auth_user")[0][0]
        for n, smtp in enumerate(["smtp-secret", ""]):
            c.execute("INSERT INTO webmail_mailaccount (user_id, address, display_name, incoming_protocol,"
                      " incoming_host, incoming_port, incoming_username, incoming_password, incoming_security,"
                      " smtp_host, smtp_port, smtp_username, smtp_password, smtp_security, delete_after_download,"
                      " imap_folders, imap_special_folders, last_poll_error, last_poll_error_detail, poll_notice,"
                      " poll_failures, last_poll_fetched, sync_done, sync_total, signature, created_at) VALUES (%s,"
                      " %s, '', 'pop3', 'mail.test', 110, 'alice', %s, 'none', 'smtp.test', 25, 'alice', %s, 'none',"
                      " FALSE, '[]', '{}', '', '', '', 0, 0, 0, 0, '', '2026-12-01 10:00')",
                      [user, f"a{n}@example.test", f"pop-secret-{n}", smtp])
        c.execute("INSERT INTO mailboxes_connectiontest (user_id, settings, incoming_password, smtp_password, status,"
                  " incoming_result, smtp_result, created_at) VALUES (%s, '{}', 'tried', '', 'queued', '', '',"
                  " '2026-12-01 10:00')", [user])
    before = rows("SELECT id, incoming_password, smtp_password FROM webmail_mailaccount ORDER BY id")

    call_command("migrate", "mailboxes", "0010", verbosity=0)
    key = Fernet(os.environ["FIELD_ENCRYPTION_KEYS"])
    after = rows("SELECT id, incoming_password, smtp_password FROM webmail_mailaccount ORDER BY id")
    assert [(i, key.decrypt(p.encode()).decode(), s and key.decrypt(s.encode()).decode()) for i, p, s in after] == [
        (before[0][0], "pop-secret-0", "smtp-secret"), (before[1][0], "pop-secret-1", "")]
    assert all("secret" not in p + s for _, p, s in after)
    (tried,), = rows("SELECT incoming_password FROM mailboxes_connectiontest")
    assert key.decrypt(tried.encode()) == b"tried"
    from mailsite.mailboxes.models import MailAccount
    assert [a.incoming_password for a in MailAccount.objects.order_by("id")] == ["pop-secret-0", "pop-secret-1"]

    call_command("migrate", "mailboxes", "0009", verbosity=0)
    assert rows("SELECT id, incoming_password, smtp_password FROM webmail_mailaccount ORDER BY id") == before
    assert rows("SELECT incoming_password FROM mailboxes_connectiontest") == [("tried",)]
    print("ok")
''')


def test_the_migration_encrypts_the_stored_passwords_and_back(database_url):
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="mailsite.settings", DATABASE_URL=database_url,
               FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode())
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-3000:]
