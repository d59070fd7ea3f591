"""Benchmark: what one /metrics scrape costs as the spool's history grows, measured in one run.

Rows are made directly (no SMTP): ROWS outbox rows (default 100,000) of which 1% still waiting (queued, deferred,
sending), the rest sent (2% failed, half of those bounced), finished over the last 48 hours, with 1.2 attempt rows
each, on 50 relay accounts; then the collector is timed (the best of BENCH_SCRAPES scrapes, default 20: the machine's noise is all upward), whole and
query by query, at a tenth of the rows and at all of them (each time after VACUUM ANALYZE on PostgreSQL, as
autovacuum would, or ANALYZE on SQLite). Poll counters live in Redis (one HGETALL): not timed
here (no Redis; they are left out of the scrape). Fresh SQLite file by default, BENCH_DATABASE_URL for another.
Target: a scrape under 1 s at 100,000 rows; the queue's gauges cost the same at both sizes (they read only the
waiting rows through the status indexes).

    .venv/bin/python bench/metrics.py
"""
import logging
import os
import pathlib
import random
import secrets
import sys
import tempfile
from datetime import timedelta

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ROWS = int(os.environ.get("ROWS", 100_000))
SCRAPES = int(os.environ.get("BENCH_SCRAPES", 20))

from bench.timing import best  # noqa: E402


def configure(tmp: pathlib.Path) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="mailsite.settings", LOG_LEVEL="ERROR",
        DATABASE_URL=os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{tmp / 'bench.sqlite3'}"),
        REDIS_URL="redis://127.0.0.1:1/0",  # nothing answers: the poll counters are left out at once
    )
    import django

    django.setup()
    logging.disable(logging.CRITICAL)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if os.environ.get("BENCH_DATABASE_URL"):  # (a database of its own, emptied: the figures are for its rows alone)
        call_command("flush", interactive=False, verbosity=0)


def make_rows(count: int, start: int, accounts: list) -> None:
    from django.utils import timezone

    from spooler.models import DeliveryAttempt, OutboxMessage

    rng = random.Random(start)
    now = timezone.now()
    messages = []
    for i in range(start, start + count):
        created = now - timedelta(seconds=rng.uniform(0, 48 * 3600))
        kind = rng.random()
        status = "queued" if kind < 0.004 else "deferred" if kind < 0.008 else "sending" if kind < 0.01 else \
            "failed" if kind < 0.03 else "sent"
        sent = created + timedelta(seconds=rng.expovariate(1 / 2.0)) if status == "sent" else None
        messages.append(OutboxMessage(
            relay=accounts[i % len(accounts)], envelope_from="bench@example.test", recipients=["r@example.test"],
            message_id=f"<{i}@bench>", status=status, created_at=created, sent_at=sent,
            next_attempt_at=created + timedelta(seconds=rng.uniform(-60, 600)),
            finished_at=(sent or created) if status in ("sent", "failed") else None,
            bounced_at=created if status == "failed" and i % 2 else None))
    OutboxMessage.objects.bulk_create(messages, batch_size=2000)
    attempts = []
    for m in messages:
        if m.status in ("sent", "failed"):
            if rng.random() < 0.2:
                attempts.append(DeliveryAttempt(message=m, outcome="deferred", code=451, at=m.created_at))
            attempts.append(DeliveryAttempt(message=m, outcome=m.status, code=250, at=m.finished_at))
    DeliveryAttempt.objects.bulk_create(attempts, batch_size=2000)
    analyze()


def analyze() -> None:
    """What autovacuum (PostgreSQL) does after such a load, and `ANALYZE` for SQLite's planner."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE spooler_outboxmessage, spooler_deliveryattempt")
        else:
            cursor.execute("ANALYZE")


def ms(fn) -> float:
    return best(fn, rounds=SCRAPES) * 1000


def measure(label: str) -> dict:
    from prometheus_client import generate_latest

    from spooler.services.metrics import spool_counts
    from spooler.services.metrics.collector import registry

    reg = registry()
    parts = {
        "queue_depth": spool_counts.queue_depth, "oldest_due": spool_counts.oldest_due_seconds,
        "attempts_by_relay": spool_counts.attempts_by_relay, "bounced_by_relay": spool_counts.bounced_by_relay,
        "delivery_latency": spool_counts.delivery_latency, "accounts_by_state": spool_counts.accounts_by_state,
    }
    figures = {name: ms(fn) for name, fn in parts.items()}
    figures["whole scrape"] = ms(lambda: generate_latest(reg))
    print(f"{label}: " + ", ".join(f"{name} {ms:.1f} ms" for name, ms in figures.items()))
    return figures


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        configure(pathlib.Path(tmp))
        from django.db import connection

        from mailsite.mailboxes.models import MailAccount
        from tests.fixtures.users import make_user

        accounts = []
        for i in range(50):
            user = make_user(f"bench{i}-{secrets.token_hex(3)}")
            account = user.mail_accounts.get()
            MailAccount.objects.filter(id=account.id).update(smtp_host=f"smtp{i % 5}.example.test", smtp_port=587)
            accounts.append(account)
        tenth = ROWS // 10
        make_rows(tenth, 0, accounts)
        small = measure(f"{connection.vendor}, {tenth:,} outbox rows")
        make_rows(ROWS - tenth, tenth, accounts)
        large = measure(f"{connection.vendor}, {ROWS:,} outbox rows")
        ratio = {name: large[name] / max(small[name], 0.001) for name in large}
        print("ratio 10x rows: " + ", ".join(f"{name} {r:.1f}x" for name, r in ratio.items()))
        ok = large["whole scrape"] < 1000
        print(f"scrape at {ROWS:,} rows: {large['whole scrape']:.0f} ms (target < 1000 ms): {'OK' if ok else 'OVER'}")


if __name__ == "__main__":
    main()
