"""Migration 0003 moves every spooled message's bytes into OutboxBody, and back, losing none."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

SCRIPT = textwrap.dedent('''
    import django
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", "spooler", "0002", verbosity=0)
    call_command("migrate", "webmail", "0002", verbosity=0)
    with connection.cursor() as c:
        for i in range(1203):  # more than one chunk of 500
            c.execute(
                "INSERT INTO spooler_outboxmessage (envelope_from, recipients, raw, message_id, subject, status,"
                " priority, next_attempt_at, attempts, last_text, outcomes, created_at, bounce_pending)"
                " VALUES (%s, %s, %s, %s, '', 'queued', 0, '2026-11-26 10:00:00', 0, '', '{}',"
                " '2026-11-26 10:00:00', 0)",
                ["a@b.test", '["c@d.test"]', b"Subject: x\\r\\n\\r\\nbody %d\\r\\n" % i, f"<{i}@x>"])
    call_command("migrate", "spooler", "0003", verbosity=0)
    from spooler.models import OutboxBody, OutboxMessage
    rows = list(OutboxMessage.objects.select_related("body").order_by("id"))
    assert len(rows) == 1203 and OutboxBody.objects.count() == 1203
    assert all(bytes(r.body.raw) == b"Subject: x\\r\\n\\r\\nbody %d\\r\\n" % i for i, r in enumerate(rows))
    call_command("migrate", "spooler", "0002", verbosity=0)
    with connection.cursor() as c:
        c.execute("SELECT raw FROM spooler_outboxmessage ORDER BY id")
        raws = [bytes(r[0]) for r in c.fetchall()]
    assert raws == [b"Subject: x\\r\\n\\r\\nbody %d\\r\\n" % i for i in range(1203)]
    print("ok")
''')


def test_bodies_move_out_of_the_rows_and_back(tmp_path):
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="mailsite.settings",
               DATABASE_URL=f"sqlite:///{tmp_path / 'migrations.sqlite3'}")
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-3000:]
