"""Benchmark: the webmail's pages with 1,000 and with 100,000 stored messages, on SQLite and on PostgreSQL.

One user has 1,000 messages, another 100,000 (bulk-made through the poller's own insert, realistic sizes: a few
KB of text from a vocabulary, every 10th with an attachment mark, 40 senders, threads of 3). Each page is asked
for repeatedly through Django's test client, logged in, in the same run for both users; the figures are the
median and 95th percentile of the request times:

- the inbox's first page; at 100k also page 50 by keyset (the cursor of page 49's last row);
- a message page;
- a search for a word and for `from:` (when the search page is there: the URL named webmail:search).

Targets: inbox(100k) / inbox(1k) <= 1.5 (a page is one index scan, whatever the mailbox's size); search p95 <=
300 ms at 100k. Each database is measured in a child process of its own (Django is configured once per process):
a SQLite file in a temporary directory, and a throwaway PostgreSQL database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/postgres) created and dropped here. BENCH_DB=sqlite or postgres for one only.

    .venv/bin/python bench/web.py            BENCH_REQUESTS=40 by default, BENCH_LARGE=100000
"""
import base64
import os
import pathlib
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from datetime import UTC, datetime, timedelta

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SMALL, LARGE = 1000, int(os.environ.get("BENCH_LARGE", 100_000))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", 40))
BATCH = 500
WORDS = ("invoice meeting project budget report travel holiday family photo contract review update release "
         "schedule lunch dinner concert ticket order shipping payment receipt account password security garden "
         "kitchen recipe football weekend morning evening question answer draft proposal client server backup "
         "database network printer office coffee train flight hotel museum library school teacher student").split()
RARE = "zeppelin"  # one message in 500 has it: a search that finds a few hundred rows at 100k


def configure(database_url, tmp):
    os.environ.update(
        DJANGO_SETTINGS_MODULE="mailsite.settings", DATABASE_URL=database_url, MEDIA_ROOT=str(tmp / "media"),
        LOG_LEVEL="WARNING", DEBUG="false", SECRET_KEY="bench-only-" + secrets.token_hex(16),
        FIELD_ENCRYPTION_KEYS=base64.urlsafe_b64encode(os.urandom(32)).decode(),
        ALLOWED_HOSTS="testserver,localhost", SECURE_SSL_REDIRECT="false",  # (the test client speaks plain HTTP)
    )
    import django

    django.setup()


def body(rng, n):
    words = [rng.choice(WORDS) for _ in range(rng.randint(150, 600))]
    if n % 500 == 7:
        words[rng.randrange(len(words))] = RARE
    return " ".join(words)


def make_mailbox(user, count, seed):
    """`count` messages for `user`, one minute apart, through the poller's multi-row insert."""
    from django.db import transaction

    from mailsite.mailboxes.models import MailAccount
    from spooler.services.sql.messages import insert_messages, message_row

    account = MailAccount.objects.create(
        user=user, address=f"{user.username}@example.test", incoming_protocol="pop3", incoming_host="127.0.0.1",
        incoming_port=9, incoming_username="x", incoming_password="x", incoming_security="none",
        smtp_host="127.0.0.1", smtp_port=9, smtp_security="none")
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    rows = []
    for n in range(count):
        text = body(rng, n)
        sender = f"Person {n % 40} <person{n % 40}@example.org>"
        subject = f"{rng.choice(WORDS).capitalize()} {rng.choice(WORDS)} {n // 3}"
        raw = (f"From: {sender}\r\nTo: {account.address}\r\nSubject: {subject}\r\n\r\n{text}\r\n").encode()
        rows.append(message_row(account_id=account.id, user_id=user.id, folder="INBOX", uid=f"u{n}",
                                raw_compressed=zlib.compress(raw, 1), sha256="", size=len(raw), sender=sender,
                                to=account.address, subject=subject, date=start + timedelta(minutes=n),
                                text=text, snippet=text[:140], has_attachments=n % 10 == 0,
                                conversation_id=f"c{n // 3}", seen=n % 4 != 0))
        if len(rows) == BATCH:
            with transaction.atomic():
                insert_messages(rows)
            rows = []
    if rows:
        with transaction.atomic():
            insert_messages(rows)
    return account


def timed(client, url, params=None):
    client.get(url, params or {})  # warm: templates compiled, caches filled
    times = []
    for _ in range(REQUESTS):
        start = time.perf_counter()
        response = client.get(url, params or {})
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, (url, response.status_code)
    times.sort()
    return statistics.median(times) * 1000, times[max(0, int(len(times) * 0.95) - 1)] * 1000


def cursor_of_page(user, number):
    from mailsite.webmail import listing

    cursor = None
    for _ in range(number - 1):
        cursor = listing.message_page(user=user, cursor=cursor).next_cursor
    return cursor


def child(vendor_url):
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="bench-web-"))
    drop = None
    try:
        if vendor_url == "sqlite":
            database_url = f"sqlite:///{tmp / 'web.sqlite3'}"
        else:
            from bench.ingest import create_database

            database_url, drop = create_database(vendor_url)
        configure(database_url, tmp)
        from django.contrib.auth import get_user_model
        from django.core.management import call_command
        from django.db import connection
        from django.test import Client
        from django.urls import NoReverseMatch, reverse

        call_command("migrate", verbosity=0)
        made = time.perf_counter()
        users = {}
        for size, seed in ((SMALL, 1), (LARGE, 2)):
            user = get_user_model().objects.create_user(username=f"u{size}")
            make_mailbox(user, size, seed)
            users[size] = user
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        print(f"database: {connection.vendor}; {SMALL:,} and {LARGE:,} messages made in "
              f"{time.perf_counter() - made:.0f} s; {REQUESTS} requests per figure", flush=True)
        try:
            search_url = reverse("webmail:search")
        except NoReverseMatch:
            search_url = None
        figures = {}
        for size, user in users.items():
            client = Client()
            client.force_login(user)
            newest = user.messages.order_by("-sort_at").first()
            figures[size] = {"inbox first page": timed(client, "/"),
                             "message page": timed(client, f"/message/{newest.id}/")}
            if size == LARGE:  # (1,000 messages are 20 pages)
                figures[size]["inbox page 50 by keyset"] = timed(client, "/", {"after": cursor_of_page(user, 50)})
            if search_url:
                figures[size]["search for a word"] = timed(client, search_url, {"q": RARE})
                figures[size]["search from:"] = timed(client, search_url, {"q": "from:person7 budget"})
        label = {SMALL: f"{SMALL // 1000}k", LARGE: f"{LARGE // 1000}k"}
        for name in figures[LARGE]:
            for size in (SMALL, LARGE):
                if name not in figures[size]:
                    continue
                p50, p95 = figures[size][name]
                print(f"{name} ({label[size]}): {p50:.1f} ms  (p95 {p95:.1f} ms)")
        ratio = figures[LARGE]["inbox first page"][0] / figures[SMALL]["inbox first page"][0]
        print(f"inbox first page, {label[LARGE]} / {label[SMALL]}: {ratio:.2f}  "
              f"(x the small mailbox; target <= 1.5: {'met' if ratio <= 1.5 else 'MISSED'})")
        ratio = figures[LARGE]["inbox page 50 by keyset"][0] / figures[LARGE]["inbox first page"][0]
        print(f"inbox page 50 / first page, {label[LARGE]}: {ratio:.2f}  (x the first page)")
        if search_url:
            worst = max(figures[LARGE]["search for a word"][1], figures[LARGE]["search from:"][1])
            print(f"search p95 at {label[LARGE]}: {worst:.1f} ms  (target <= 300 ms: {'met' if worst <= 300 else 'MISSED'})")
        else:
            print("search: no search page (webmail:search) in this revision")
    finally:
        if drop:
            drop()
        shutil.rmtree(tmp, ignore_errors=True)


def main(script=__file__, child=child):
    """Run `child` for each database chosen, each in a process of its own (`script --child TARGET`)."""
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        return child(sys.argv[2])
    pg = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    chosen = os.environ.get("BENCH_DB", "sqlite,postgres").split(",")
    failed = 0
    for name, target in (("sqlite", "sqlite"), ("postgres", pg)):
        if name in chosen:
            failed += subprocess.run([sys.executable, script, "--child", target], cwd=ROOT).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
