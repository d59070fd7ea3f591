"""Benchmark: the webmail under load while the spool delivers. 20 clients (one signed-in user each, 200 stored
messages each) load their inbox page and a message page, again and again, a second apart on average (--think;
0 for no pause at all: 20 clients then queue for the CPU, a saturation test rather than 20 readers), through gunicorn
(3 sync workers, as docker-compose's web; after --warm-up seconds of the same, not counted), while this script spools 10,000 messages through the spool's own
enqueue (one transaction each, as pages do) and a real Celery worker (2 processes, embedded beat) delivers them to
Postfix's smtp-sink. When every message is recorded sent, the clients stop. It prints what the pages cost with one
client alone first (nothing else of this benchmark running, and the machine's load average: the figures under
load depend on what else the machine runs), then the request times under load (p50 / p99, all pages and per
page) and the sink's counts by Message-ID:

    load: clients=20 think=1 s web-workers=3 requests=… errors=0 p50=… ms p99=… ms  target p99 < 500 ms: …
    load: queued=10000 received=… distinct=… duplicates=… lost=0 seconds=…  every message once: …

Starts its own Redis, smtp-sink, Celery worker and gunicorn, on free ports of 127.0.0.1 only, and a throwaway
PostgreSQL database on BENCH_DATABASE_URL's server (default postgres://postgres@127.0.0.1:5432/postgres), dropped
at the end. Bounded: the clients stop when the delivery is done or after --max-seconds; so does the script.
The clients run in a process of their own, so that the enqueue's Python does not delay their clock.

    .venv/bin/python bench/load.py [--messages 10000] [--clients 20] [--web-workers 3] [--max-seconds 900]
"""
import argparse
import http.client
import multiprocessing
import os
import random
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MESSAGES_PER_USER = 200


def client_loop(port, cookie, urls, stop, deadline, results, seed, think):
    """One client: GET its inbox, then one of its messages, again and again, `think` seconds apart on average (a
    reader; 0: no pause at all); (page, seconds, status) per request."""
    rng = random.Random(seed)
    inbox, messages = urls
    while not stop.is_set() and time.monotonic() < deadline:
        for page, path in (("inbox", inbox), ("message", rng.choice(messages))):
            started = time.perf_counter()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("GET", path, headers={"Cookie": cookie, "Host": "localhost"})
                response = conn.getresponse()
                response.read()
                status = response.status
                conn.close()
            except OSError as error:
                status = f"error {type(error).__name__}"
            results.append((page, time.perf_counter() - started, status))
            if think and stop.wait(think * rng.uniform(0.5, 1.5)):
                return


def clients_process(port, sessions, stop, seconds, out, think):
    """All clients, as threads of this (spawned) process; the results go back through `out` once they stop."""
    deadline = time.monotonic() + seconds
    results, threads = [], []
    for n, (cookie, urls) in enumerate(sessions):
        thread = threading.Thread(target=client_loop, args=(port, cookie, urls, stop, deadline, results, n, think))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    out.put(results)


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] if ordered else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--max-seconds", type=float, default=900)
    parser.add_argument("--think", type=float, default=1.0,
                        help="seconds a client pauses between requests, on average (0: none, a saturation test)")
    parser.add_argument("--warm-up", type=float, default=10, help="seconds of uncounted requests first")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs) and print its path")
    args = parser.parse_args()

    from bench.stack import scratch_stack

    with scratch_stack(prefix="mailsite-load-", keep=args.keep, LOG_LEVEL="WARNING", SWEEP_INTERVAL_SECONDS="5") as (
            work, sink):
        return measure(args, work, sink)


def measure(args, work, sink) -> int:
    """Everything but the scratch stack, Django being set up on it."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.test import Client
    from django.urls import reverse

    from bench.web import make_mailbox
    from mailsite.mailboxes.models import Message
    from spooler.models import OutboxMessage, OutboxStatus
    from spooler.services.outbound.enqueue import outbox_enqueue
    from spooler.sessions import Email
    from tests.fixtures.celery_worker import CeleryWorker
    from tests.fixtures.net import free_port, wait_for_port
    from tests.fixtures.procs import spawn, stop as stop_process

    worker = web = clients = None
    web_port = free_port()
    try:
        sessions = []
        for n in range(args.clients):
            user = get_user_model().objects.create_user(username=f"load{n}")
            make_mailbox(user, MESSAGES_PER_USER, seed=n)
            client = Client()
            client.force_login(user)
            ids = list(Message.objects.filter(user=user).values_list("id", flat=True))
            cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
            sessions.append((cookie, (reverse("webmail:inbox"),
                                      [reverse("webmail:message", args=[i]) for i in ids])))
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

        worker = CeleryWorker(env=dict(os.environ), log=work / "worker.log", concurrency=2,
                              beat_schedule=work / "beat-schedule")
        worker.start()
        web_log = open(work / "gunicorn.log", "wb")
        web = spawn([sys.executable, "-m", "gunicorn", "mailsite.wsgi:application", "--bind", f"127.0.0.1:{web_port}",
                     "--workers", str(args.web_workers)], cwd=ROOT, env=dict(os.environ), stdout=web_log, stderr=web_log)
        wait_for_port("127.0.0.1", web_port, timeout=60)

        spawned = multiprocessing.get_context("spawn")
        # Warm-up, not counted: every gunicorn worker imports the views and compiles the templates on its first
        # requests.
        stop, out = spawned.Event(), spawned.Queue()
        clients = spawned.Process(target=clients_process, args=(web_port, sessions, stop, args.warm_up, out, args.think))
        clients.start()
        warm = out.get(timeout=args.warm_up + 120)
        clients.join(30)
        print(f"load: warm-up (not counted): {len(warm)} requests in {args.warm_up:.0f} s", flush=True)
        # What the pages cost with nothing else of ours running: one client, no pause, nothing spooled.
        alone = []
        client_loop(web_port, *sessions[0], threading.Event(), time.monotonic() + 5, alone, 0, 0)
        print(f"load: one client alone, 5 s before the load: {len(alone)} requests "
              + " ".join(f"{page} p50={percentile([t * 1000 for n, t, _ in alone if n == page], 0.5):.0f} ms"
                         for page in ("inbox", "message"))
              + f"; load average {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs)", flush=True)

        stop, out = spawned.Event(), spawned.Queue()
        clients = spawned.Process(target=clients_process, args=(web_port, sessions, stop, args.max_seconds, out, args.think))
        deadline = time.monotonic() + args.max_seconds
        clients.start()

        started = time.monotonic()
        rows = []
        for i in range(args.messages):
            email = Email(sender="Load <load@example.test>", to=[f"r{i}@example.test"], subject=f"load {i}",
                          text="A message spooled while the webmail is under load.\n")
            with transaction.atomic():
                rows.append(outbox_enqueue(email=email))
        enqueue_rate = len(rows) / (time.monotonic() - started)
        on_the_way = OutboxMessage.objects.filter(status__in=[OutboxStatus.QUEUED, OutboxStatus.SENDING,
                                                              OutboxStatus.DEFERRED])
        while on_the_way.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        delivered_in = time.monotonic() - started
        stop.set()
        results = out.get(timeout=120)
        clients.join(30)

        times = [seconds * 1000 for _page, seconds, status in results if status == 200]
        errors = [status for _page, _seconds, status in results if status != 200]
        p99 = percentile(times, 0.99)
        print(f"load: clients={args.clients} think={args.think:g} s web-workers={args.web_workers} "
              f"requests={len(results)} errors={len(errors)} "
              f"p50={percentile(times, 0.5):.0f} ms p99={p99:.0f} ms  "
              f"target p99 < 500 ms: {'met' if p99 < 500 and not errors else 'MISSED'}", flush=True)
        for page in ("inbox", "message"):
            own = [seconds * 1000 for name, seconds, status in results if name == page and status == 200]
            print(f"load: {page} page requests={len(own)} p50={percentile(own, 0.5):.0f} ms "
                  f"p99={percentile(own, 0.99):.0f} ms mean={statistics.fmean(own):.0f} ms", flush=True)
        if errors:
            print(f"load: first errors: {errors[:5]}", flush=True)
        received = sink.message_ids()
        distinct = set(received)
        lost = {r.message_id for r in rows} - distinct
        once = not lost and len(received) == len(distinct) == len(rows)
        print(f"load: queued={len(rows)} received={len(received)} distinct={len(distinct)} "
              f"duplicates={len(received) - len(distinct)} lost={len(lost)} seconds={delivered_in:.1f} "
              f"(enqueue {enqueue_rate:.0f} msg/s)  every message once: {'met' if once else 'MISSED'}", flush=True)
        print(f"load: load average at the end {os.getloadavg()[0]:.1f} (1 min), {os.getloadavg()[1]:.1f} (5 min)",
              flush=True)
        return 0 if once and p99 < 500 and not errors else 1
    finally:
        if clients is not None and clients.is_alive():
            clients.terminate()
        if web is not None:
            stop_process(web, timeout=15)
        if worker is not None:
            worker.stop()


if __name__ == "__main__":
    sys.exit(main())
