"""The mailbox models moved from the webmail app to the mailboxes app by state only: a database migrated by the code
before the move migrates forward with every row where it was (and its content types relabelled, so permissions
follow), and back again. Run on the suite's own database engine (SQLite, or PostgreSQL in a database of its own)."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path


ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent('''
    import django
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    def rows(sql):
        with connection.cursor() as c:
            c.execute(sql)
            return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in r) for r in c.fetchall()]

    def table(name):
        """The rows of a table as {column: value}: a table SQLite rebuilds may come back with its columns in
        another order."""
        with connection.cursor() as c:
            c.execute(f"SELECT * FROM {name} ORDER BY id")
            names = [d[0] for d in c.description]
            return [{n: bytes(v) if isinstance(v, memoryview) else v for n, v in zip(names, r)} for r in c.fetchall()]

    def content_type(app_label, model):
        found = rows(f"SELECT id FROM django_content_type WHERE app_label = '{app_label}' AND model = '{model}'")
        return found[0][0] if found else None

    # The schema of the code before the move (webmail 0002, spooler 0003), with rows made as that code made them,
    # content types included (that code's post_migrate created them under "webmail").
    for app in ("contenttypes", "auth"):
        call_command("migrate", app, verbosity=0)
    call_command("migrate", "webmail", "0002", verbosity=0)
    call_command("migrate", "spooler", "0003", verbosity=0)
    with connection.cursor() as c:
        c.execute("INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff,"
                  " is_active, date_joined) VALUES ('!', FALSE, 'alice', '', '', '', FALSE, TRUE, '2026-12-01 10:00')")
        user = rows("SELECT id FROM auth_user")[0][0]
        c.execute("INSERT INTO webmail_mailaccount (user_id, address, display_name, incoming_protocol, incoming_host,"
                  " incoming_port, incoming_username, incoming_password, incoming_security, smtp_host, smtp_port,"
                  " smtp_username, smtp_password, smtp_security, delete_after_download, imap_folders, last_poll_error,"
                  " last_poll_error_detail, poll_notice, poll_failures, last_poll_fetched, sync_done, sync_total,"
                  " created_at) VALUES (%s, 'alice@example.test', 'Alice', 'imap', 'mail.test', 993, 'alice', 's3cret',"
                  " 'tls', 'smtp.test', 587, '', '', 'starttls', FALSE, '[\\"INBOX\\", \\"Archive\\"]', '', '', '', 2,"
                  " 0, 3, 4, '2026-12-01 10:00')", [user])
        account = rows("SELECT id FROM webmail_mailaccount")[0][0]
        for i in range(3):
            c.execute("INSERT INTO webmail_message (account_id, folder, uid, on_server, raw_compressed, sha256, size,"
                      " too_large, sender, \\"to\\", cc, subject, message_id, in_reply_to, \\"references\\","
                      " conversation_id, text, html, snippet, has_html, has_attachments, parse_error, defects, seen,"
                      " fetched_at) VALUES (%s, %s, %s, TRUE, %s, '', 10, FALSE, 'Bob <bob@example.test>', '', '',"
                      " %s, '', '', '', '', 'text', '', '', FALSE, TRUE, FALSE, '', FALSE, '2026-12-01 10:00')",
                      [account, "INBOX" if i < 2 else "Archive", f"1:{i}", b"raw %d" % i, f"Subject {i}"])
        message = rows("SELECT min(id) FROM webmail_message")[0][0]
        c.execute("INSERT INTO webmail_attachment (message_id, filename, safe_filename, content_type, content_id,"
                  " size, sha256, file) VALUES (%s, 'a.pdf', 'a.pdf', 'application/pdf', '', 5, 'ab', 'x/ab')",
                  [message])
        c.execute("INSERT INTO spooler_outboxmessage (relay_id, envelope_from, recipients, message_id, subject,"
                  " status, priority, next_attempt_at, attempts, last_text, outcomes, created_at, bounce_pending)"
                  " VALUES (%s, 'alice@example.test', '[\\"bob@example.test\\"]', '<1@x>', 'out', 'queued', 0,"
                  " '2026-12-01 10:00', 0, '', '{}', '2026-12-01 10:00', FALSE)", [account])
        for model in ("mailaccount", "message", "attachment"):
            c.execute("INSERT INTO django_content_type (app_label, model) VALUES ('webmail', %s)", [model])
        c.execute("INSERT INTO auth_permission (name, content_type_id, codename) VALUES ('Can view', %s,"
                  " 'view_mailaccount')", [content_type("webmail", "mailaccount")])
    tables = ("webmail_mailaccount", "webmail_message", "webmail_attachment", "spooler_outboxmessage")
    before = {t: table(t) for t in tables}
    account_type = content_type("webmail", "mailaccount")

    # The move itself (mailboxes 0001 with webmail 0003 and spooler 0004) changes no row.
    call_command("migrate", "mailboxes", "0001", verbosity=0)
    call_command("migrate", "webmail", verbosity=0)
    call_command("migrate", "spooler", "0004", verbosity=0)
    assert {t: table(t) for t in tables} == before
    assert content_type("mailboxes", "mailaccount") == account_type and content_type("webmail", "mailaccount") is None

    # Then the rest: the messages get their user, box and sort keys.
    call_command("migrate", verbosity=0)
    from mailsite.mailboxes.models import Attachment, MailAccount, Message
    from spooler.models import OutboxMessage
    placed = list(Message.objects.order_by("id").values_list("user_id", "box", "sender_key", "subject_key"))
    assert placed == [(user, "inbox", "bob", "subject 0"), (user, "inbox", "bob", "subject 1"),
                      (user, "folder", "bob", "subject 2")]
    assert {m.sort_at for m in Message.objects.all()} == {m.fetched_at for m in Message.objects.all()}
    moved = MailAccount.objects.get()
    assert (moved.address, moved.incoming_password, moved.folders, moved.sync_total) == (
        "alice@example.test", "s3cret", ["INBOX", "Archive"], 4)
    assert sorted(moved.messages.values_list("subject", flat=True)) == ["Subject 0", "Subject 1", "Subject 2"]
    assert Attachment.objects.get().message == Message.objects.get(id=message)
    assert OutboxMessage.objects.get().relay == moved
    assert content_type("mailboxes", "mailaccount") == account_type and content_type("webmail", "mailaccount") is None
    assert rows("SELECT content_type_id FROM auth_permission WHERE codename = 'view_mailaccount'") == [(account_type,)]

    call_command("migrate", "mailboxes", "zero", verbosity=0)
    assert {t: table(t) for t in tables} == before
    assert content_type("webmail", "mailaccount") == account_type and content_type("mailboxes", "mailaccount") is None
    assert rows("SELECT app, name FROM django_migrations WHERE app = 'mailboxes'") == []
    print("ok")
''')


def test_a_database_of_before_the_move_migrates_forward_and_back_with_its_rows(database_url):
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="mailsite.settings", DATABASE_URL=database_url)
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-3000:]
