"""Benchmark: POP3 and IMAP ingest into the database against raw poplib RETR, same Dovecot mailbox, same run;
and the peak RSS growth while one 25 MB message is ingested.

Starts a private sandbox (spooler.sandbox) on free ports under a temporary directory and drops 2,000 messages
into one Maildir (every 10th with a 20 KB attachment, each attachment different). Then, in interleaved rounds
(after one untimed pass of each, so Dovecot's index and our imports are warm), it times:
- raw poplib: RETR of every message, nothing else;
- POP3 ingest: account_poll() of a fresh account on that mailbox (leave on server): list, retrieve, parse,
  compress, store the attachments, commit the rows;
- IMAP ingest: the same over IMAP.
It prints the median rate of each and the ratios. The memory figure comes from a child process that ingests one
25 MB message (POP3, then IMAP) and reports ru_maxrss before and after.

The database is its own: a SQLite file in the temporary directory, or, with BENCH_DATABASE_URL=postgres://...,
a throwaway database created on that server and dropped at the end. Never the development database.

    .venv/bin/python bench/ingest.py            BENCH_ROUNDS=5 by default
"""
import json
import base64
import os
import pathlib
import poplib
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.fixtures.net import free_ports  # noqa: E402

MESSAGES = 2000
ATTACH_EVERY = 10
ATTACHMENT_BYTES = 20 * 1024
BIG_MESSAGE_BYTES = 25 * 1024 * 1024
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 5))
ADDRESS, PASSWORD = "bench@example.test", "bench-secret"
BIG_ADDRESS = "big@example.test"
WARM_ADDRESS = "warm@example.test"


def configure(database_url, media_root):
    """Django settings for this process (and the child): the benchmark's own database, no limits in the way."""
    os.environ.update(
        DJANGO_SETTINGS_MODULE="mailsite.settings", DATABASE_URL=database_url, MEDIA_ROOT=str(media_root),
        POLL_MAX_MESSAGES="1000000", POLL_SESSION_SECONDS="3600", MAIL_TIMEOUT="60", LOG_LEVEL="WARNING",
        MAX_MESSAGE_BYTES=str(50 * 1024 * 1024),
        # As in production: DEBUG off (Django then keeps no log of every query).
        DEBUG="false", SECRET_KEY="bench-only-" + secrets.token_hex(16),
        FIELD_ENCRYPTION_KEYS=base64.urlsafe_b64encode(os.urandom(32)).decode(), ALLOWED_HOSTS="localhost",
    )
    import django

    django.setup()


def make_account(sandbox, protocol, address=ADDRESS):
    from django.contrib.auth import get_user_model

    from mailsite.mailboxes.models import MailAccount

    user = get_user_model().objects.create_user(username=f"bench-{secrets.token_hex(6)}")
    port = sandbox["imap"] if protocol == "imap" else sandbox["pop3"]
    return MailAccount.objects.create(
        user=user, address=address, incoming_protocol=protocol, incoming_host="127.0.0.1", incoming_port=port,
        incoming_username=address, incoming_password=PASSWORD, incoming_security="none",
        smtp_host="127.0.0.1", smtp_port=9, smtp_security="none",
    )


def ingest(sandbox, protocol, address=ADDRESS, expect=MESSAGES):
    """Seconds account_poll() takes to store the whole mailbox into a fresh account."""
    from mailsite.mailboxes.models import Message
    from spooler.services.inbound.poll import account_poll

    account = make_account(sandbox, protocol, address)
    start = time.perf_counter()
    result = account_poll(account_id=account.id)
    elapsed = time.perf_counter() - start
    stored = Message.objects.filter(account=account).count()
    assert result is not None and not result.error and stored == expect, (result, stored)
    return elapsed, account


def raw_poplib(port):
    conn = poplib.POP3("127.0.0.1", port, timeout=30)
    conn.user(ADDRESS)
    conn.pass_(PASSWORD)
    count = len(conn.list()[1])
    start = time.perf_counter()
    for number in range(1, count + 1):
        conn.retr(number)
    elapsed = time.perf_counter() - start
    conn.quit()
    assert count == MESSAGES, count
    return elapsed


def fill(sandbox_obj):
    from spooler.sessions import Attachment, Email

    sandbox_obj.add_user(ADDRESS, PASSWORD)
    for number in range(MESSAGES):
        attachments = []
        if number % ATTACH_EVERY == 0:
            attachments = [Attachment(f"report-{number}.pdf", "application/pdf", os.urandom(ATTACHMENT_BYTES))]
        message = Email(sender="Alice Example <alice@example.test>", to=[ADDRESS], subject=f"Benchmark message {number}",
                        text=f"Hello,\n\nthis is message number {number} of the ingest benchmark.\n\n-- \nAlice\n",
                        message_id=f"<bench-{number}@example.test>", attachments=attachments,
                        in_reply_to=f"<bench-{number - 1}@example.test>" if number % 3 else None)
        sandbox_obj.deliver(ADDRESS, message.to_bytes())
    sandbox_obj.add_user(WARM_ADDRESS, PASSWORD)
    sandbox_obj.deliver(WARM_ADDRESS, Email(sender="alice@example.test", to=[WARM_ADDRESS], subject="warm", text="x",
                                            attachments=[Attachment("a.bin", "application/pdf", b"%PDF" * 999)]).to_bytes())
    sandbox_obj.add_user(BIG_ADDRESS, PASSWORD)
    data = os.urandom(BIG_MESSAGE_BYTES * 57 // 78 - 2048)  # base64 with line breaks: 78 bytes per 57
    big = Email(sender="alice@example.test", to=[BIG_ADDRESS], subject="one big message", text="see attached",
                attachments=[Attachment("big.bin", "application/octet-stream", data)]).to_bytes()
    sandbox_obj.deliver(BIG_ADDRESS, big)
    return len(big)


def clear_round(accounts, media_root):
    """Remove a round's rows and files, and settle the database, so that the next round pays for none of it."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    get_user_model().objects.filter(mail_accounts__in=[a.id for a in accounts]).delete()
    shutil.rmtree(media_root, ignore_errors=True)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        elif connection.vendor == "postgresql":
            cursor.execute("CHECKPOINT")


def rss_child(argv):
    """In a fresh process: warm up on a one-message mailbox (imports, parser, database connection), then
    ingest the one big message; print the growth of the peak RSS (ru_maxrss) in bytes."""
    sandbox, protocol = json.loads(argv[0]), argv[1]
    configure(sandbox["database_url"], sandbox["media_root"])
    ingest(sandbox, protocol, WARM_ADDRESS, expect=1)
    before = peak_rss(reset=True)
    ingest(sandbox, protocol, BIG_ADDRESS, expect=1)
    print(peak_rss() - before)


def peak_rss(reset=False):
    """Peak resident set size of this process in bytes (ru_maxrss). Linux keeps ru_maxrss across fork and exec,
    so a child would report its parent's peak: there VmHWM of /proc/self/status is used, which belongs to this
    process's own memory and can be reset to the current RSS (clear_refs 5); the result is then the RSS now."""
    status = pathlib.Path("/proc/self/status")
    if not status.exists():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    if reset:
        pathlib.Path("/proc/self/clear_refs").write_text("5")
    fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
    return int(fields["VmRSS" if reset else "VmHWM"].split()[0]) * 1024


def create_database(url):
    """A throwaway PostgreSQL database on the server of ``url``; returns (its URL, a function that drops it)."""
    import psycopg

    name = f"bench_ingest_{secrets.token_hex(4)}"
    base, _, _ = url.rpartition("/")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        from django.db import connections

        connections.close_all()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"{base}/{name}", drop


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--rss-child":
        return rss_child(sys.argv[2:])
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    os.chmod(tmp, 0o755)
    drop = None
    if os.environ.get("BENCH_DATABASE_URL"):
        database_url, drop = create_database(os.environ["BENCH_DATABASE_URL"])
    else:
        database_url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    media_root = tmp / "media"
    configure(database_url, media_root)
    from django.core.management import call_command
    from django.db import connection

    from spooler.sandbox import Sandbox, SandboxConfig

    call_command("migrate", verbosity=0)
    smtp, pop3, imap, pop3s, imaps = free_ports(5)
    sandbox_obj = Sandbox(SandboxConfig(base_dir=tmp / "sandbox", smtp_port=smtp, pop3_port=pop3, imap_port=imap,
                                        pop3s_port=pop3s, imaps_port=imaps))
    try:
        sandbox_obj.start()
        big_size = fill(sandbox_obj)
        sandbox = {"pop3": pop3, "imap": imap, "database_url": database_url, "media_root": str(media_root)}
        print(f"mailbox: {MESSAGES:,} messages, every {ATTACH_EVERY}th with a {ATTACHMENT_BYTES // 1024} KB attachment; "
              f"database: {connection.vendor}; {ROUNDS} rounds after a warm-up, medians", flush=True)
        raw_poplib(pop3)
        for protocol in ("pop3", "imap"):
            clear_round([ingest(sandbox, protocol)[1]], media_root)
        times = {"raw": [], "pop3": [], "imap": []}
        for _ in range(ROUNDS):
            times["raw"].append(raw_poplib(pop3))
            for protocol in ("pop3", "imap"):
                elapsed, account = ingest(sandbox, protocol)  # into an empty database and attachment store
                times[protocol].append(elapsed)
                clear_round([account], media_root)
        rate = {name: MESSAGES / statistics.median(values) for name, values in times.items()}
        print(f"raw poplib RETR:          {rate['raw']:8,.0f} messages/s")
        for protocol in ("pop3", "imap"):
            ratio = rate[protocol] / rate["raw"]
            verdict = "met" if ratio >= 0.25 else "MISSED"
            print(f"{protocol.upper()} ingest into the DB: {rate[protocol]:8,.0f} messages/s  "
                  f"({ratio:.3f} x raw poplib; target >= 0.25: {verdict})")
        for protocol in ("pop3", "imap"):
            child = subprocess.run([sys.executable, __file__, "--rss-child", json.dumps(sandbox), protocol],
                                   capture_output=True, text=True, check=True, cwd=ROOT)
            growth = {protocol: int(child.stdout.strip().splitlines()[-1])}
            factor = growth[protocol] / big_size
            verdict = "met" if factor <= 8 else "MISSED"
            print(f"peak RSS growth ingesting one {big_size / 1024 / 1024:.0f} MB message ({protocol.upper()}): "
                  f"{growth[protocol] / 1024 / 1024:.0f} MB ({factor:.1f} x its size; target <= 8: {verdict})")
    finally:
        sandbox_obj.stop()
        if drop:
            drop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
