"""Benchmark of the outbound spool, every figure measured in one run on this machine.

    .venv/bin/python bench/spool.py [--messages 5000]

Starts its own Redis, smtp-sink (Postfix's, in its own process) and a real Celery worker with 2 processes,
on a scratch SQLite database in a temporary directory (BENCH_DATABASE_URL points it at another scratch
database, e.g. a PostgreSQL one; never the dev database). Prints one line per figure:

- enqueue rate: outbox_enqueue of ~2 KB messages, one transaction each, as pages do;
- delivery rate: the worker draining the whole spool into smtp-sink;
- raw smtplib rate: the same messages over one reused smtplib connection to the same sink;
  (each of these three: the median of --rounds rounds, taken in turns)
- the SMTP round trip to the sink (NOOP), which raw smtplib waits for four times per message;
- their ratio (target ≥ 1.5);
- p50 / p95 of commit → 250 latency with an idle queue (target p50 < 100 ms);
- compose POST latency with a relay that takes 10 s per message against an instant one (target ratio ≤ 1.1).
"""
import argparse
import base64
import os
import re
import shutil
import smtplib
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--messages", type=int, default=5000)
parser.add_argument("--rounds", type=int, default=3)
parser.add_argument("--warm-up", type=int, default=500, help="messages of the uncounted first round")
parser.add_argument("--latency-samples", type=int, default=40)
parser.add_argument("--posts", type=int, default=60)
parser.add_argument("--concurrency", type=int, default=2, help="worker processes")
parser.add_argument("--keep", action="store_true", help="keep the work directory (worker log) and print its path")
args = parser.parse_args()

WORK = Path(tempfile.mkdtemp(prefix="mailsite-bench-"))
os.chmod(WORK, 0o755)

from tests.fixtures.net import free_port  # noqa: E402
from tests.fixtures.redis import RedisServer  # noqa: E402
from tests.fixtures.smtp_sink import SmtpSink  # noqa: E402

redis_server = RedisServer(port=free_port(), dir=str(WORK))
redis_server.start()
sink = SmtpSink("-c").start()  # counts only: the fastest sink
slow_sink = SmtpSink("-w", "10").start()  # a relay that takes 10 s to answer DATA

os.environ.update(
    DJANGO_SETTINGS_MODULE="mailsite.settings",
    DATABASE_URL=os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{WORK / 'bench.sqlite3'}",
    REDIS_URL=redis_server.url,
    EMAIL_HOST="127.0.0.1",
    EMAIL_PORT=str(sink.port),
    EMAIL_SECURITY="none",
    LOG_LEVEL="INFO" if args.keep else "WARNING",
    DEBUG="false",  # as in production: no query log
    SECRET_KEY="bench-only-" + "x" * 40,
    FIELD_ENCRYPTION_KEYS=base64.urlsafe_b64encode(os.urandom(32)).decode(),
    ALLOWED_HOSTS="testserver",
)

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from mailsite.celery import app as celery_app  # noqa: E402
from mailsite.mailboxes.models import MailAccount  # noqa: E402
from spooler.models import OutboxBody, OutboxMessage, OutboxStatus  # noqa: E402
from spooler.services import outbound  # noqa: E402
from spooler.services import broker
from spooler.services.outbound.enqueue import outbox_enqueue
from spooler.sessions import Email  # noqa: E402
from tests.fixtures.celery_worker import CeleryWorker  # noqa: E402

BODY = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore. "
        * 20)[:1700]
worker = None


def line(name: str, value: str, note: str = "") -> None:
    print(f"{name}: {value}{'  ' + note if note else ''}", flush=True)


def wait_until(predicate, timeout: float, interval: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def sink_count() -> int:
    text = (sink.dir / "smtp-sink.log").read_bytes().decode(errors="replace")
    found = re.findall(r"mesg=(\d+)", text)
    return int(found[-1]) if found else 0


def start_worker() -> CeleryWorker:
    env = dict(os.environ)
    env.update(PYTHONUNBUFFERED="1")
    w = CeleryWorker(env=env, log=WORK / "worker.log", concurrency=args.concurrency)
    w.start()
    return w


def enqueue(n: int, label) -> float:
    """A fresh spool of n messages, one transaction each, as the compose page and send_mail do. No wake-up is
    published: the worker waits for the clock. Returns the enqueue rate (msg/s)."""
    OutboxMessage.objects.all().delete()
    emails = [Email(sender="Bench <bench@example.test>", to=[f"rcpt{i}@example.test"], subject=f"Bench {label}.{i}",
                    text=BODY) for i in range(n)]
    wake, broker.outbox_wake = broker.outbox_wake, lambda: None
    started = time.perf_counter()
    try:
        for email in emails:
            with transaction.atomic():
                outbox_enqueue(email=email)
    finally:
        broker.outbox_wake = wake
    return n / (time.perf_counter() - started)


def deliver_all(n: int) -> float:
    """Have the running worker deliver the n queued rows; returns the rate (msg/s)."""
    global worker
    celery_app.control.purge()  # (no wake-up was published during the enqueue: the clock starts with one)
    if connection.vendor == "sqlite":
        # Copy the enqueue's transactions from the write-ahead log into the database now, so that the
        # delivery's first commits do not pay for them (SQLite would, in its automatic checkpoints).
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    if worker is None:
        worker = start_worker()
        time.sleep(1.0)
    started = time.perf_counter()
    broker.publish_wake()
    # Polled every 10 ms, so the poll must be cheap: "any row not sent" reads the whole table on PostgreSQL
    # (a sequential scan taking CPU from the worker it measures); rows still on their way are found by index.
    on_the_way = OutboxMessage.objects.filter(status__in=[OutboxStatus.QUEUED, OutboxStatus.SENDING,
                                                          OutboxStatus.DEFERRED])
    done = wait_until(lambda: not on_the_way.exists(), timeout=600, interval=0.01)
    deliver_s = time.perf_counter() - started
    sent = OutboxMessage.objects.filter(status=OutboxStatus.SENT).count()
    if not done or sent != n:
        line("delivery", f"NOT ALL SENT: {sent} of {n} sent in {deliver_s:.1f} s")
    return sent / deliver_s


def main() -> None:
    call_command("migrate", verbosity=0)
    n = args.messages

    # 1-3. Three rounds, each: enqueue n messages (one transaction per message, as the compose page and
    #      send_mail do); the real worker (2 processes) delivers them; raw smtplib sends the same messages over
    #      one reused connection to the same sink. Rates are the median of the rounds: this machine's speed
    #      varies from second to second, and taking turns lets both sides see the same machine.
    #      A first, smaller round is not counted: it warms the worker's two processes up (their first task
    #      opens the database connection and the SMTP connection, and loads what Python loads lazily).
    enqueue_rates, delivery_rates, raw_rates, sink_counts, round_trips = [], [], [], [], []
    enqueue(args.warm_up, "warm-up")
    line("warm-up round (not counted)", f"{args.warm_up} messages delivered at {deliver_all(args.warm_up):.0f} msg/s")
    for round_ in range(args.rounds):
        enqueue_rates.append(enqueue(n, round_))
        before = sink_count()
        delivery_rates.append(deliver_all(n))
        sink_counts.append(sink_count() - before)
        raws = [(r.envelope_from, r.recipients, bytes(r.body.raw))
                for r in OutboxMessage.objects.select_related("body").order_by("id")]
        smtp = smtplib.SMTP("127.0.0.1", sink.port, local_hostname="bench")
        started = time.perf_counter()
        for sender, recipients, raw in raws:
            smtp.sendmail(sender, recipients, raw)
        raw_rates.append(len(raws) / (time.perf_counter() - started))
        for _ in range(300):  # the round trip raw smtplib waits for four times per message
            started = time.perf_counter()
            smtp.noop()
            round_trips.append(time.perf_counter() - started)
        smtp.quit()
    size = sum(len(bytes(r)) for r in OutboxBody.objects.values_list("raw", flat=True)[:100]) / 100

    def rounds(rates):
        return f"(median of {len(rates)} rounds: {', '.join(f'{r:.0f}' for r in rates)})"

    line("messages", f"{n} of {size / 1024:.1f} KB, {args.rounds} rounds; the sink counted "
                     f"{', '.join(map(str, sink_counts))} from the worker")
    line("enqueue rate", f"{statistics.median(enqueue_rates):.0f} msg/s", rounds(enqueue_rates))
    delivery_rate, raw_rate = statistics.median(delivery_rates), statistics.median(raw_rates)
    line("delivery rate", f"{delivery_rate:.0f} msg/s", f"(2 worker processes; {rounds(delivery_rates)[1:]}")
    line("raw smtplib rate", f"{raw_rate:.0f} msg/s", f"(one connection, one process; {rounds(raw_rates)[1:]}")
    # Raw smtplib waits for the sink four times per message (MAIL, RCPT, DATA, the content); the worker about
    # once (pipelining). So the ratio depends on this machine's loopback round trip as much as on the spool.
    line("SMTP round trip to the sink", f"{statistics.median(round_trips) * 1e6:.0f} us",
         f"(NOOP over the raw connection, median of {len(round_trips)})")
    ratio = delivery_rate / raw_rate
    line("delivery / raw ratio", f"{ratio:.2f}", "target >= 1.5: " + ("met" if ratio >= 1.5 else "MISSED"))

    # 4. Commit → 250 latency with an idle queue: one message at a time, the worker waiting.
    latencies = []
    for i in range(args.latency_samples):
        time.sleep(0.25)  # idle: the worker has nothing to do, the last wake-up is long past
        email = Email(sender="Bench <bench@example.test>", to=["latency@example.test"], subject=f"Latency {i}",
                      text=BODY)
        with transaction.atomic():
            row = outbox_enqueue(email=email)
        committed = time.time()
        wait_until(lambda: OutboxMessage.objects.filter(id=row.id, status=OutboxStatus.SENT).exists(), timeout=30,
                   interval=0.002)
        row.refresh_from_db()
        if row.sent_at:
            latencies.append((row.sent_at.timestamp() - committed) * 1000)
    latencies.sort()
    p50 = statistics.median(latencies)
    p95 = latencies[min(len(latencies) - 1, int(round(0.95 * (len(latencies) - 1))))]
    line("commit->250 latency p50", f"{p50:.1f} ms", "target < 100 ms: " + ("met" if p50 < 100 else "MISSED"))
    line("commit->250 latency p95", f"{p95:.1f} ms", f"({len(latencies)} samples)")

    # 5. Compose POST latency: a relay that takes 10 s per message against an instant one.
    user = get_user_model().objects.create_user(username=f"bench{time.time_ns()}", password="x")
    common = dict(user=user, address="bench@example.test", display_name="Bench", incoming_host="127.0.0.1",
                  incoming_port=9, incoming_username="bench", incoming_password="x", incoming_security="none",
                  smtp_host="127.0.0.1", smtp_security="none")
    instant = MailAccount.objects.create(**common, smtp_port=sink.port)
    slow = MailAccount.objects.create(**common, smtp_port=slow_sink.port)
    client = Client()
    client.force_login(user)
    url = reverse("webmail:compose")

    def post(account, i) -> float:
        started = time.perf_counter()
        response = client.post(url, {"account": account.id, "to": "someone@example.test", "subject": f"POST {i}",
                                     "text": BODY})
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 302, response.status_code
        return elapsed

    for i in range(3):
        post(instant, i)  # warm-up (templates, sessions)
    # Alternate the two relays, so that both series see the same machine (other load comes and goes).
    fast, slow_times = [], []
    for i in range(args.posts):
        fast.append(post(instant, i))
        time.sleep(0.02)
        slow_times.append(post(slow, i))
        time.sleep(0.02)
    fast_ms, slow_ms = statistics.median(fast), statistics.median(slow_times)
    post_ratio = slow_ms / fast_ms
    line("compose POST latency, instant relay", f"{fast_ms:.1f} ms", "(median)")
    line("compose POST latency, 10 s relay", f"{slow_ms:.1f} ms", "(median)")
    line("compose POST slow/instant ratio", f"{post_ratio:.2f}", "target <= 1.1: " + ("met" if post_ratio <= 1.1 else "MISSED"))


if __name__ == "__main__":
    try:
        main()
    finally:
        if worker:
            worker.stop()
        sink.cleanup()
        slow_sink.cleanup()
        redis_server.stop()
        if args.keep:
            print(f"work directory kept: {WORK}")
        else:
            shutil.rmtree(WORK, ignore_errors=True)
